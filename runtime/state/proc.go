package state

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// StartTime reads a process's start time in clock ticks since boot (field 22
// of /proc/<pid>/stat). Together with the pid it names one process for good.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: fields count from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat: no comm field", pid)
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	return strconv.ParseUint(string(fields[19]), 10, 64)
}

// Alive reports whether pid still is the process that started at start.
// A zombie counts as gone: it runs nothing any more.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	if b[i+2] == 'Z' || b[i+2] == 'X' {
		return false
	}
	got, err := StartTime(pid)
	return err == nil && (start == 0 || got == start)
}

// Refresh turns a running container whose process is gone into a stopped one
// (in memory only): the process may have died with nobody left to record it.
func (st *State) Refresh() {
	if (st.Status == Running || st.Status == Created) && !Alive(st.Pid, st.PidStart) {
		st.Status = Stopped
	}
}

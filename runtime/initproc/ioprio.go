package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

var ioprioClasses = map[specs.IOPriorityClass]uintptr{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

// IOPriority is ioprio_set(2)'s value for p: a known class and a level in
// 0..7 (the kernel's range for RT and BE; IDLE ignores it).
func IOPriority(p *specs.LinuxIOPriority) (uintptr, error) {
	c, ok := ioprioClasses[p.Class]
	if !ok {
		return 0, fmt.Errorf("class %q: unknown (want IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return 0, fmt.Errorf("priority %d: out of range 0..7", p.Priority)
	}
	return c<<ioprioClassShift | uintptr(p.Priority), nil
}

// setIOPriority applies to the init, so to the user's process after the
// exec and to what it forks.
func setIOPriority(p *specs.LinuxIOPriority) error {
	v, err := IOPriority(p)
	if err != nil {
		return fmt.Errorf("process.ioPriority: %w", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, v); e != 0 {
		return fmt.Errorf("set I/O priority %s %d: %w", p.Class, p.Priority, e)
	}
	return nil
}

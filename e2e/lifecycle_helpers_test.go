package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lifeState is the part of `container state` and state.json the lifecycle
// tests look at.
type lifeState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Created     string            `json:"created"`
	Monitor     int               `json:"monitorPid"`
	ExitCode    *int              `json:"exitCode"`
	ExitMessage string            `json:"exitMessage"`
	Cgroup      map[string]string `json:"cgroupPaths"`
}

// state runs `container state id` and decodes it; it fails the test on a
// non-zero exit.
func (e *env) state(id string) lifeState {
	e.t.Helper()
	out := e.ok(e.run("state", id))
	var st lifeState
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("decode `state %s`: %v\n%s", id, err, out)
	}
	return st
}

// stateFile reads state.json directly, for the fields `state` may hide.
func (e *env) stateFile(id string) lifeState {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, id, "state.json"))
	if err != nil {
		e.t.Fatalf("read state.json of %s: %v", id, err)
	}
	var st lifeState
	if err := json.Unmarshal(b, &st); err != nil {
		e.t.Fatalf("decode state.json of %s: %v", id, err)
	}
	return st
}

// detach starts a detached container named id running script and makes
// sure it is gone when the test ends (before the leftover check, which was
// registered earlier and so runs later).
func (e *env) detach(id, script string, flags ...string) result {
	e.t.Helper()
	args := append([]string{"--rootfs", rootfs, "-d", "--name", id}, flags...)
	r := e.run(append(args, "--", "/bin/sh", "-c", script)...)
	e.t.Cleanup(func() { e.run("delete", "-f", id) })
	return r
}

// waitStatus polls `container state` until the status is want.
func (e *env) waitStatus(id, want string) lifeState {
	e.t.Helper()
	var st lifeState
	ok := eventually(10*time.Second, func() bool {
		// A foreground runtime writes state.json only once the container runs.
		r := e.run("state", id)
		if r.code != 0 {
			return false
		}
		st = lifeState{}
		return json.Unmarshal([]byte(r.stdout), &st) == nil && st.Status == want
	})
	if !ok {
		e.t.Fatalf("container %s: status %q after 10s, want %q", id, st.Status, want)
	}
	return st
}

// waitLog polls `container logs` until it holds every one of want.
func (e *env) waitLog(id string, want ...string) string {
	e.t.Helper()
	var out string
	ok := eventually(10*time.Second, func() bool {
		out = e.ok(e.run("logs", id))
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		e.t.Fatalf("logs of %s: %q, want all of %q", id, out, want)
	}
	return out
}

// startFG starts foreground container id in the background of the test
// and returns its runtime process; the test owns it and may kill it. At the
// end the container is force-deleted and the runtime reaped.
func (e *env) startFG(id string, args ...string) *fgRun {
	e.t.Helper()
	full := append([]string{"--rootfs", rootfs, "--name", id}, args...)
	c := e.cmd(full...)
	// Files, not pipes: the container inherits them, and Wait would block
	// on a pipe until the container is gone even when the runtime is dead.
	dir := e.t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer errf.Close()
	c.Stdout, c.Stderr = out, errf
	if err := c.Start(); err != nil {
		e.t.Fatalf("start %v: %v", full, err)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	e.t.Cleanup(func() {
		e.run("delete", "-f", id)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.Process.Kill()
			<-done
			e.run("delete", "-f", id)
		}
	})
	return &fgRun{Cmd: c, done: done, dir: dir}
}

// fgRun is a foreground runtime started by startFG.
type fgRun struct {
	*exec.Cmd
	done chan struct{}
	dir  string // holds files stdout and stderr
}

// wait waits (bounded) for the runtime to be reaped and returns its result.
func (f *fgRun) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("runtime %d did not exit", f.Process.Pid)
	}
	out, _ := os.ReadFile(filepath.Join(f.dir, "stdout"))
	errb, _ := os.ReadFile(filepath.Join(f.dir, "stderr"))
	return result{stdout: string(out), stderr: string(errb), code: f.ProcessState.ExitCode()}
}

func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procStat returns fields of /proc/pid/stat by their man-page number
// (4 ppid, 6 session); ok is false if the process is gone.
func procStat(pid int) (fields map[int]string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	fields = map[int]string{}
	for n, f := range strings.Fields(string(b[i+1:])) {
		fields[n+3] = f
	}
	return fields, true
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	f, ok := procStat(pid)
	return ok && f[3] != "Z" && f[3] != "X"
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	if !eventually(10*time.Second, func() bool { return !running(pid) }) {
		t.Fatalf("process %d still runs", pid)
	}
}

// cgroupDirs are the cgroup directories of container id that exist.
func cgroupDirs(id string) []string {
	a, _ := filepath.Glob("/sys/fs/cgroup/*/llcr/" + id)
	b, _ := filepath.Glob("/sys/fs/cgroup/llcr/" + id)
	return append(a, b...)
}

// assertGone checks that nothing of container id is left: state dir,
// cgroups, `state` knowledge.
func (e *env) assertGone(id string) {
	e.t.Helper()
	if _, err := os.Stat(filepath.Join(e.root, id)); !os.IsNotExist(err) {
		e.t.Errorf("state directory of %s still exists (%v)", id, err)
	}
	if d := cgroupDirs(id); len(d) > 0 {
		e.t.Errorf("cgroups of %s still exist: %v", id, d)
	}
	r := e.run("state", id)
	if r.code != 125 || !strings.Contains(r.stderr, "no such container") {
		e.t.Errorf("state of deleted %s: want 125 and \"no such container\", got %s", id, r)
	}
}

// failsWith asserts exit 125 with exactly one stderr line containing every
// one of want.
func failsWith(t *testing.T, r result, want ...string) {
	t.Helper()
	failsWithCode(t, r, 125, want...)
}

func failsWithCode(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("want exit %d, got %s", code, r)
		return
	}
	msg := strings.TrimRight(r.stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("want one line on stderr, got %q", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("stderr %q does not mention %q", msg, w)
		}
	}
}

// listRow finds id's row in `container list` output, split on runs of spaces
// into ID, PID, STATUS, CREATED (date and time), COMMAND...
func listRow(t *testing.T, out, id string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.Join(strings.Fields(lines[0]), " ") != "ID PID STATUS CREATED COMMAND" {
		t.Fatalf("list header: %q", out)
	}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && f[0] == id {
			return f
		}
	}
	t.Fatalf("list has no row for %s:\n%s", id, out)
	return nil
}

// sigkill kills a process the test started itself.
func sigkill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
}

// freezer is where the host's freezer for llcr's containers lives.
type freezer struct {
	parent, file, frozen string
}

func findFreezer(t *testing.T) freezer {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/freezer/llcr"); err == nil {
		return freezer{"/sys/fs/cgroup/freezer/llcr", "freezer.state", "FROZEN"}
	}
	if _, err := os.Stat("/sys/fs/cgroup/llcr/cgroup.freeze"); err == nil {
		return freezer{"/sys/fs/cgroup/llcr", "cgroup.freeze", "1"}
	}
	t.Skip("no cgroup freezer for llcr's containers on this host")
	return freezer{}
}

// release undoes a freeze the runtime failed to clean up, so one failing
// test does not leave a frozen process behind for the others: it thaws,
// kills what this test's runtime put in the cgroup, and removes it.
func (f freezer) release(t *testing.T, id string) {
	dirs := cgroupDirs(id)
	if len(dirs) == 0 {
		return
	}
	t.Logf("removing the frozen cgroup the runtime left: %v", dirs)
	thawed := "THAWED"
	if f.file == "cgroup.freeze" {
		thawed = "0"
	}
	cg := filepath.Join(f.parent, id)
	b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	for _, p := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(p); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	os.WriteFile(filepath.Join(cg, f.file), []byte(thawed), 0o644)
	eventually(5*time.Second, func() bool {
		for _, d := range dirs {
			os.Remove(d)
		}
		return len(cgroupDirs(id)) == 0
	})
}

// createWatch reports the names created in one directory (inotify), so a
// test can act the moment the runtime makes a cgroup.
type createWatch struct{ fd int }

func watchCreate(t *testing.T, dir string) *createWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE); err != nil {
		t.Fatalf("watch %s: %v", dir, err)
	}
	return &createWatch{fd: fd}
}

// waitFor blocks (bounded) until name is created.
func (w *createWatch) waitFor(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 100); err != nil && err != unix.EINTR {
			t.Fatalf("poll inotify: %v", err)
		} else if n <= 0 {
			continue
		}
		n, err := unix.Read(w.fd, buf)
		if err != nil {
			t.Fatalf("read inotify: %v", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameb := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			if string(bytes.TrimRight(nameb, "\x00")) == name {
				return
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
	t.Fatalf("%s was not created in 10s", name)
}

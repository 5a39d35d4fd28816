package e2e

// Helpers for the TestRun* tests: background containers, private rootfs
// copies, host-side inspection. Generic enough for other tests, but kept in
// their own file so helpers_test.go stays shared and small.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bg is a runtime invocation running in the background.
type bg struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

// start runs bin/container in the background; the process is killed and
// reaped at the end of the test if the test did not wait for it.
func (e *env) start(args ...string) *bg {
	e.t.Helper()
	return e.startCmd(e.cmd(args...))
}

func (e *env) startCmd(c *exec.Cmd) *bg {
	e.t.Helper()
	b := &bg{t: e.t, cmd: c, done: make(chan struct{})}
	if c.Stdout == nil {
		c.Stdout = &b.stdout
	}
	if c.Stderr == nil {
		c.Stderr = &b.stderr
	}
	if err := c.Start(); err != nil {
		e.t.Fatalf("start %v: %v", c.Args, err)
	}
	go func() { b.err = c.Wait(); close(b.done) }()
	// Registered after newEnv's leftover check, so it runs before it.
	e.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			c.Process.Kill()
			<-b.done
		}
	})
	return b
}

// wait waits (bounded by a minute) for the runtime to exit.
func (b *bg) wait() result {
	b.t.Helper()
	select {
	case <-b.done:
	case <-time.After(time.Minute):
		b.cmd.Process.Kill()
		<-b.done
		b.t.Fatalf("%v did not finish in a minute", b.cmd.Args)
	}
	r := result{stdout: b.stdout.String(), stderr: b.stderr.String()}
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		r.code = ee.ExitCode()
	} else if b.err != nil {
		b.t.Fatalf("run %v: %v", b.cmd.Args, b.err)
	}
	return r
}

// exited reports whether the runtime has already exited.
func (b *bg) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond for up to 20 seconds; it fails the test with what
// when cond never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutput waits until the background runtime's stdout contains s.
func (b *bg) waitOutput(s string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.stdout.String(), s) {
		if b.exited() || time.Now().After(deadline) {
			b.t.Fatalf("waiting for %q in stdout: stdout %q, stderr %q, exited %v",
				s, b.stdout.String(), b.stderr.String(), b.exited())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containerPid waits until container id is running and returns the host pid
// of its process, as `container state` reports it.
func (e *env) containerPid(id string) int {
	e.t.Helper()
	var pid int
	waitFor(e.t, "container "+id+" to be running", func() bool {
		r := e.run("state", id)
		if r.code != 0 {
			return false
		}
		var st struct {
			Status string `json:"status"`
			Pid    int    `json:"pid"`
		}
		if json.Unmarshal([]byte(r.stdout), &st) != nil {
			return false
		}
		pid = st.Pid
		return st.Status == "running" && pid > 0
	})
	return pid
}

// privateRootfs copies the shared rootfs into the test's temp dir, for
// tests that add to a rootfs (symlinks, mountpoints, workdirs) or compare
// it before and after. It checks at the end that no mount refers to it.
func privateRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", rootfs, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(mi), dir) {
			t.Errorf("a mount under the private rootfs %s is left behind", dir)
		}
	})
	return dir
}

// treeSnapshot lists every path under dir with its type, mode, owner, size
// and link target: what a container must never change in the user's rootfs.
// Modification times are left out on purpose: reading a file updates atime
// only, and directories' mtimes are what the snapshot is meant to catch
// through their entries.
func treeSnapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v %s", rel, fi.Mode(), owner(fi))
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			line += fmt.Sprintf(" %d bytes", fi.Size())
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	sort.Strings(out)
	return out
}

// diffLines returns the lines only in a and only in b.
func diffLines(a, b []string) (onlyA, onlyB []string) {
	in := func(set []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range set {
			m[s] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	for _, s := range a {
		if !mb[s] {
			onlyA = append(onlyA, s)
		}
	}
	for _, s := range b {
		if !ma[s] {
			onlyB = append(onlyB, s)
		}
	}
	return onlyA, onlyB
}

// lines splits output into trimmed, non-empty lines (handling a terminal's \r\n).
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// shIn is e.sh with a rootfs other than the shared one.
func (e *env) shIn(root, script string, flags ...string) result {
	e.t.Helper()
	args := append([]string{"--rootfs", root}, flags...)
	return e.run(append(args, "--", "/bin/sh", "-c", script)...)
}

func owner(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
	}
	return "?"
}

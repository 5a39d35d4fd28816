package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"llcr/runtime/cgroup"
	"llcr/runtime/spec"
	"llcr/runtime/state"
)

// These tests build the leftovers of a start killed midway by hand (a state
// directory without state.json, a cgroup with a process in it) and check
// that delete and list cope. They need root for the cgroup.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (creates a cgroup)")
	}
}

func unitID(t *testing.T) string {
	var b [4]byte
	rand.Read(b[:])
	return "llcr-unit-" + hex.EncodeToString(b[:])
}

// orphanCgroup creates id's cgroup where launch would and puts a sleep in
// it; it returns the cgroup's directories and the sleep.
func orphanCgroup(t *testing.T, id string) (map[string]string, *exec.Cmd) {
	t.Helper()
	cg, err := cgroup.New(id, "", spec.Default().Linux.Resources)
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.Create(); err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "100")
	if err := sleep.Start(); err != nil {
		cg.Destroy()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sleep.Process.Kill()
		sleep.Wait()
		cg.Destroy()
	})
	if err := cg.Join(sleep.Process.Pid); err != nil {
		t.Fatal(err)
	}
	return cg.Paths(), sleep
}

func assertNoCgroup(t *testing.T, paths map[string]string) {
	t.Helper()
	for k, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %q (%s) still exists: %v", k, p, err)
		}
	}
}

func TestDeleteWithoutStateJSON(t *testing.T) {
	needRoot(t)
	g := &Globals{Root: t.TempDir()}
	id := unitID(t)
	if _, err := g.store().Create(id); err != nil {
		t.Fatal(err)
	}
	paths, sleep := orphanCgroup(t, id)

	err := (&DeleteCmd{ID: id}).Run(g)
	if !errors.Is(err, state.ErrNoState) || !strings.Contains(err.Error(), "delete -f") {
		t.Fatalf("delete without -f: %v, want ErrNoState naming delete -f", err)
	}
	if _, err := os.Stat(g.store().Dir(id)); err != nil {
		t.Fatalf("delete without -f removed the directory: %v", err)
	}

	if err := (&DeleteCmd{ID: id, Force: true}).Run(g); err != nil {
		t.Fatalf("delete -f: %v", err)
	}
	werr := sleep.Wait()
	if ws, ok := sleep.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the process in the cgroup was not killed: %v", werr)
	}
	assertNoCgroup(t, paths)
	if _, err := os.Stat(g.store().Dir(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory survived delete -f: %v", err)
	}
}

// A state.json without cgroup paths (none recorded) still gets its cgroup
// removed from the default place.
func TestDeleteStateWithoutCgroupPaths(t *testing.T) {
	needRoot(t)
	g := &Globals{Root: t.TempDir()}
	id := unitID(t)
	dir, err := g.store().Create(id)
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := orphanCgroup(t, id)
	st := &state.State{}
	st.ID, st.Status, st.Pid = id, state.Running, 0
	if err := state.Write(dir, st); err != nil {
		t.Fatal(err)
	}
	if err := (&DeleteCmd{ID: id, Force: true}).Run(g); err != nil {
		t.Fatalf("delete -f: %v", err)
	}
	assertNoCgroup(t, paths)
}

func TestDeleteUnknown(t *testing.T) {
	needRoot(t)
	g := &Globals{Root: t.TempDir()}
	for _, force := range []bool{false, true} {
		err := (&DeleteCmd{ID: "nope", Force: force}).Run(g)
		if !errors.Is(err, state.ErrNotExist) {
			t.Errorf("delete (force %v) of an unknown id: %v", force, err)
		}
	}
}

// captureStd runs f with os.Stdout and os.Stderr going to files.
func captureStd(t *testing.T, f func() error) (stdout, stderr string, err error) {
	t.Helper()
	dir := t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "out"))
	errf, _ := os.Create(filepath.Join(dir, "err"))
	so, se := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errf
	err = f()
	os.Stdout, os.Stderr = so, se
	out.Close()
	errf.Close()
	b1, _ := os.ReadFile(out.Name())
	b2, _ := os.ReadFile(errf.Name())
	return string(b1), string(b2), err
}

func TestListStatelessContainer(t *testing.T) {
	g := &Globals{Root: t.TempDir()}
	store := g.store()
	if _, err := store.Create("half"); err != nil {
		t.Fatal(err)
	}
	dir, err := store.Create("done")
	if err != nil {
		t.Fatal(err)
	}
	st := &state.State{Command: []string{"true"}}
	st.ID, st.Status = "done", state.Stopped
	if err := state.Write(dir, st); err != nil {
		t.Fatal(err)
	}
	for _, quiet := range []bool{false, true} {
		out, errOut, err := captureStd(t, func() error { return (&ListCmd{Quiet: quiet}).Run(g) })
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if !strings.Contains(out, "done") || strings.Contains(out, "half") {
			t.Errorf("list -q=%v: stdout %q, want done and not half", quiet, out)
		}
		if !strings.Contains(errOut, `"half"`) || !strings.Contains(errOut, "delete -f") {
			t.Errorf("list -q=%v: stderr %q, want a word on half", quiet, errOut)
		}
	}
}

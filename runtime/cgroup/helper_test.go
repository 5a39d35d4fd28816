package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The test binary doubles as the processes put into cgroups, so the tests
// need nothing from the host but the kernel.
const helperEnv = "LLCR_CGROUP_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runHelper waits for a byte on stdin (the test moved it into the cgroup),
// then acts.
func runHelper(mode string) int {
	var b [1]byte
	if _, err := os.Stdin.Read(b[:]); err != nil {
		return 10
	}
	switch mode {
	case "sleep":
		time.Sleep(30 * time.Second)
	case "tree":
		for range 3 {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), helperEnv+"=sleep")
			c.Stdin = strings.NewReader("x")
			if err := c.Start(); err != nil {
				return 11
			}
		}
		fmt.Println("started")
		time.Sleep(30 * time.Second)
	case "alloc":
		// 200MiB, every page touched so it is really charged.
		buf := make([]byte, 200<<20)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = 1
		}
		return 0
	case "devices":
		f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
		if err != nil {
			fmt.Println("/dev/null:", err)
			return 12
		}
		f.Close()
		if _, err := os.Open("/dev/zero"); err == nil || !os.IsPermission(err) {
			fmt.Println("/dev/zero:", err)
			return 13
		}
		return 0
	}
	return 0
}

// helper is a test-binary child placed in m's cgroup: born inside on v2,
// joined right after start elsewhere; it acts only once in.
type helper struct {
	cmd  *exec.Cmd
	gate io.WriteCloser
	out  strings.Builder
}

func startHelper(t *testing.T, m *Manager, mode string) *helper {
	t.Helper()
	h := &helper{cmd: exec.Command(os.Args[0])}
	h.cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	h.cmd.Stdout = &h.out
	h.cmd.Stderr = &h.out
	var err error
	if h.gate, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	fd, ok, err := m.Fd()
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		defer syscall.Close(fd)
		h.cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			_ = h.cmd.Process.Kill()
			_ = h.cmd.Wait()
		}
	})
	if !ok {
		if err := m.Join(h.cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.gate.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitSignal waits for the helper and fails unless sig killed it.
func (h *helper) waitSignal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	err := h.cmd.Wait()
	ws, _ := h.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("helper ended with %v (%v), want signal %v; output: %s", err, ws, sig, h.out.String())
	}
}

func testID(_ testing.TB) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "llcr-test-" + hex.EncodeToString(b)
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
}

// newTestManager creates a cgroup and makes sure the test leaves none of
// its directories behind.
func newTestManager(t *testing.T, id string, r *specs.LinuxResources) *Manager {
	t.Helper()
	m, err := New(id, "", r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.KillAll()
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		assertGone(t, m)
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertGone(t *testing.T, m *Manager) {
	t.Helper()
	for k, p := range m.Paths() {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("cgroup %q dir %s still there (%v)", k, p, err)
		}
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pidsOf(t *testing.T, m *Manager) []int {
	t.Helper()
	pids, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	return pids
}

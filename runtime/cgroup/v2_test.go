package cgroup

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const v2Env = "LLCR_CGROUP_TEST_V2"

// TestV2InPrivateMount exercises the pure v2 code (clone into cgroup,
// cgroup.kill, cgroup.freeze, eBPF device filter) on a hybrid host: a child
// with its own mount and cgroup namespaces mounts the unified hierarchy on
// /sys/fs/cgroup, rooted at a scratch cgroup so that the host's root
// cgroup.subtree_control is never written.
func TestV2InPrivateMount(t *testing.T) {
	needRoot(t)
	if os.Getenv(v2Env) != "" {
		runV2Inside(t)
		return
	}
	if Mode() != modeHybrid {
		t.Skip("faking a v2 host needs a hybrid one (a v2 host is covered by the other tests)")
	}
	scratch := filepath.Join(hybridUnified, testID(t))
	if err := os.Mkdir(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cgroups.RemovePath(scratch); err != nil {
			t.Errorf("remove scratch cgroup: %v", err)
		}
	})
	fd, err := unix.Open(scratch, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command(os.Args[0], "-test.run=^TestV2InPrivateMount$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), v2Env+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.CombinedOutput()
	t.Logf("inside:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: TestV2InPrivateMount") {
		t.Fatalf("v2 test inside the private mount failed: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(scratch, parentName))
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("cgroup left behind: %s", filepath.Join(scratch, parentName, e.Name()))
		}
	}
}

func runV2Inside(t *testing.T) {
	// The mount takes its root from the mounting thread's cgroup namespace.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("cgroup2", defaultRoot, "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatal(err)
	}
	if Mode() != modeV2 {
		t.Fatalf("mode %s after mounting cgroup2 on %s", Mode(), defaultRoot)
	}

	// Nothing is delegated to the scratch cgroup: limits must fail clearly.
	_, err := New(testID(t), "", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib))}})
	if err == nil || !strings.Contains(err.Error(), `cgroup controller "memory" is not available on this host (not listed in /sys/fs/cgroup/cgroup.controllers)`) {
		t.Errorf("memory on a memory-less v2 host: %v", err)
	}

	t.Run("devices", func(t *testing.T) {
		m := newTestManager(t, testID(t), &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
		}})
		h := startHelper(t, m, "devices")
		if err := h.cmd.Wait(); err != nil {
			t.Fatalf("eBPF device filter not enforced: %v: %s", err, h.out.String())
		}
	})

	for _, cgroupKill := range []bool{true, false} {
		name := "kill-by-cgroup.kill"
		if !cgroupKill {
			name = "kill-by-pid"
		}
		t.Run(name, func(t *testing.T) {
			useCgroupKill = cgroupKill
			defer func() { useCgroupKill = true }()
			id := testID(t)
			m := newTestManager(t, id, nil)
			if _, ok, _ := m.Fd(); !ok {
				t.Fatal("Fd not available on v2")
			}
			h := startHelper(t, m, "tree")
			waitFor(t, "4 processes", func() bool { return len(pidsOf(t, m)) == 4 })
			// Seen from outside the test's cgroup namespace when this
			// goroutine is on another thread, hence only the suffix.
			self := readFile(t, "/proc/"+strconv.Itoa(h.cmd.Process.Pid), "cgroup")
			if !strings.HasSuffix(self, "/llcr/"+id) || !strings.Contains(self, "0::/") {
				t.Errorf("helper born in %q, want 0::/llcr/%s", self, id)
			}
			if err := m.Freeze(); err != nil {
				t.Fatal(err)
			}
			if st := freezerState(t, m); st != "FROZEN" {
				t.Errorf("after Freeze: %s", st)
			}
			loaded, err := Load(m.Paths())
			if err != nil || !maps.Equal(loaded.Paths(), m.Paths()) {
				t.Fatalf("Load: %v %v", loaded, err)
			}
			if err := loaded.KillAll(); err != nil {
				t.Fatal(err)
			}
			h.waitSignal(t, syscall.SIGKILL)
			if oom, err := m.OOMKilled(); err != nil || oom {
				t.Errorf("OOMKilled = %v, %v", oom, err)
			}
			if err := loaded.Destroy(); err != nil {
				t.Fatal(err)
			}
			assertGone(t, m)
		})
	}
}

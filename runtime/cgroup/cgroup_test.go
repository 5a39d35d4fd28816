package cgroup

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const mib = 1 << 20

func limits() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(20))},
		CPU:    &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(100000))},
	}
}

func TestLimitsJoinKillDestroy(t *testing.T) {
	needRoot(t)
	t.Logf("cgroup mode %s", Mode())
	id := testID(t)
	m := newTestManager(t, id, limits())
	p := m.Paths()

	if Mode() == modeV2 {
		dir := p[""]
		for file, want := range map[string]string{"memory.max": "67108864", "pids.max": "20", "cpu.max": "50000 100000"} {
			if got := readFile(t, dir, file); got != want {
				t.Errorf("%s = %q, want %q", file, got, want)
			}
		}
		if _, err := os.Stat(dir + "/memory.swap.max"); err == nil {
			if got := readFile(t, dir, "memory.swap.max"); got != "0" {
				t.Errorf("memory.swap.max = %q, want 0", got)
			}
		}
	} else {
		checks := map[string][2]string{
			"memory.limit_in_bytes": {"memory", "67108864"},
			"pids.max":              {"pids", "20"},
			"cpu.cfs_quota_us":      {"cpu", "50000"},
			"cpu.cfs_period_us":     {"cpu", "100000"},
		}
		if _, err := os.Stat(p["memory"] + "/memory.memsw.limit_in_bytes"); err == nil {
			checks["memory.memsw.limit_in_bytes"] = [2]string{"memory", "67108864"}
		}
		for file, c := range checks {
			if got := readFile(t, p[c[0]], file); got != c[1] {
				t.Errorf("%s = %q, want %q", file, got, c[1])
			}
		}
		for _, unwanted := range []string{"blkio", "devices", "cpuset", "systemd"} {
			if _, ok := p[unwanted]; ok {
				t.Errorf("unconfigured %s hierarchy joined", unwanted)
			}
		}
		if _, ok := p[""]; Mode() == modeHybrid && !ok {
			t.Error("hybrid host: unified hierarchy not joined")
		}
	}
	if got := m.MemoryLimit(); got != 64*mib {
		t.Errorf("MemoryLimit = %d", got)
	}

	h := startHelper(t, m, "tree")
	pid := h.cmd.Process.Pid
	waitFor(t, "helper and its 3 children in the cgroup", func() bool { return len(pidsOf(t, m)) == 4 })
	if !slices.Contains(pidsOf(t, m), pid) {
		t.Errorf("pid %d not in %v", pid, pidsOf(t, m))
	}
	self := readFile(t, "/proc/"+strconv.Itoa(pid), "cgroup")
	for _, line := range strings.Split(self, "\n") {
		f := strings.SplitN(line, ":", 3)
		ctrls := strings.Split(f[1], ",")
		if _, used := p[ctrls[0]]; used && f[2] != "/llcr/"+id {
			t.Errorf("helper is in %q, want /llcr/%s", line, id)
		}
	}

	// A later process rebuilds the manager from state.json's paths.
	loaded, err := Load(m.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(loaded.Paths(), p) {
		t.Errorf("Load(Paths()) = %v, want %v", loaded.Paths(), p)
	}
	if got := loaded.MemoryLimit(); got != 64*mib {
		t.Errorf("loaded MemoryLimit = %d", got)
	}
	if got := pidsOf(t, loaded); len(got) != 4 {
		t.Errorf("loaded Pids = %v", got)
	}

	if err := loaded.KillAll(); err != nil {
		t.Fatal(err)
	}
	if got := pidsOf(t, m); len(got) != 0 {
		t.Errorf("after KillAll: %v", got)
	}
	h.waitSignal(t, syscall.SIGKILL)
	if oom, err := m.OOMKilled(); err != nil || oom {
		t.Errorf("OOMKilled = %v, %v without an OOM", oom, err)
	}

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, m)
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if err := loaded.Destroy(); err != nil {
		t.Errorf("Destroy through loaded manager: %v", err)
	}
	if err := m.KillAll(); err != nil {
		t.Errorf("KillAll of a destroyed cgroup: %v", err)
	}
}

func TestOOMKilled(t *testing.T) {
	needRoot(t)
	m := newTestManager(t, testID(t), &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib))}})
	h := startHelper(t, m, "alloc")
	h.waitSignal(t, syscall.SIGKILL)
	oom, err := m.OOMKilled()
	if err != nil || !oom {
		t.Fatalf("OOMKilled = %v, %v; want true", oom, err)
	}
}

func TestFreezeAndKillFrozen(t *testing.T) {
	needRoot(t)
	for _, cgroupKill := range []bool{true, false} {
		t.Run("cgroup.kill="+strconv.FormatBool(cgroupKill), func(t *testing.T) {
			useCgroupKill = cgroupKill
			defer func() { useCgroupKill = true }()
			m := newTestManager(t, testID(t), nil)
			h := startHelper(t, m, "tree")
			waitFor(t, "4 processes", func() bool { return len(pidsOf(t, m)) == 4 })
			if err := m.Freeze(); err != nil {
				t.Fatal(err)
			}
			if st := freezerState(t, m); st != "FROZEN" {
				t.Errorf("after Freeze: %s", st)
			}
			if err := m.Thaw(); err != nil {
				t.Fatal(err)
			}
			if st := freezerState(t, m); st != "THAWED" {
				t.Errorf("after Thaw: %s", st)
			}
			// A paused container must still die.
			if err := m.Freeze(); err != nil {
				t.Fatal(err)
			}
			if err := m.KillAll(); err != nil {
				t.Fatal(err)
			}
			h.waitSignal(t, syscall.SIGKILL)
			if got := pidsOf(t, m); len(got) != 0 {
				t.Errorf("after KillAll: %v", got)
			}
		})
	}
}

func freezerState(t *testing.T, m *Manager) string {
	if Mode() == modeV2 {
		if readFile(t, m.Paths()[""], "cgroup.freeze") == "1" {
			return "FROZEN"
		}
		return "THAWED"
	}
	return readFile(t, m.Paths()["freezer"], "freezer.state")
}

func TestDeviceRules(t *testing.T) {
	needRoot(t)
	m := newTestManager(t, testID(t), &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
	}})
	h := startHelper(t, m, "devices")
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("device rules not enforced: %v: %s", err, h.out.String())
	}
}

// This host may lack a controller; a hybrid one often has hugetlb only on
// the unified hierarchy, which llcr does not use for limits.
func TestMissingControllerOnThisHost(t *testing.T) {
	h, err := detectedHost()
	if err != nil {
		t.Fatal(err)
	}
	if h.mode == modeV2 {
		t.Skip("every v2 controller is in one hierarchy")
	}
	if _, ok := h.mounts["hugetlb"]; ok {
		t.Skip("host has a v1 hugetlb hierarchy")
	}
	_, err = New(testID(t), "", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 * mib}}})
	if err == nil || !strings.Contains(err.Error(), `cgroup controller "hugetlb" is not available on this host (no hugetlb hierarchy under /sys/fs/cgroup)`) {
		t.Errorf("error = %v", err)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	needRoot(t)
	// A cpuset naming CPUs the machine lacks fails after the directories
	// exist, on v1 and v2 alike (absurd cpu shares do not: v2 clamps them).
	m, err := New(testID(t), "", &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib))},
		CPU:    &specs.LinuxCPU{Cpus: "4000-4001"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	err = m.Create()
	if err == nil {
		t.Fatal("Create accepted a cpuset of CPUs that do not exist")
	}
	t.Logf("Create: %v", err)
	assertGone(t, m)
}

// BenchmarkCreateDestroy measures the hot-path cost of a container's cgroup.
func BenchmarkCreateDestroy(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for b.Loop() {
		m, err := New(testID(b), "", limits())
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Create(); err != nil {
			b.Fatal(err)
		}
		if err := m.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCpuset(t *testing.T) {
	needRoot(t)
	m := newTestManager(t, testID(t), &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0"}})
	dir, file := m.Paths()["cpuset"], "cpuset.cpus"
	if Mode() == modeV2 {
		dir = m.Paths()[""]
	}
	if got := readFile(t, dir, file); got != "0" {
		t.Errorf("%s = %q, want 0", file, got)
	}
	h := startHelper(t, m, "sleep")
	if err := m.KillAll(); err != nil {
		t.Fatal(err)
	}
	h.waitSignal(t, syscall.SIGKILL)
}

package cgroup

import (
	"maps"
	"strings"
	"testing"

	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

// fakeV1 is a v1 host with cpu and cpuacct co-mounted, as most distros do.
func fakeV1(without ...string) *host {
	h := &host{mode: modeV1, root: "/sys/fs/cgroup", memsw: true, mounts: map[string]string{}}
	for _, c := range []string{"memory", "pids", "devices", "freezer", "cpuset", "blkio", "hugetlb"} {
		h.mounts[c] = "/sys/fs/cgroup/" + c
	}
	h.mounts["cpu"] = "/sys/fs/cgroup/cpu,cpuacct"
	h.mounts["cpuacct"] = "/sys/fs/cgroup/cpu,cpuacct"
	for _, c := range without {
		delete(h.mounts, c)
	}
	return h
}

func fakeHybrid() *host {
	h := fakeV1()
	h.mode = modeHybrid
	h.mounts[""] = "/sys/fs/cgroup/unified"
	return h
}

func fakeV2(ctrls ...string) *host {
	h := &host{mode: modeV2, root: "/sys/fs/cgroup", v2Controllers: map[string]bool{}}
	for _, c := range ctrls {
		h.v2Controllers[c] = true
	}
	return h
}

func TestInnerPath(t *testing.T) {
	for _, tc := range []struct{ id, path, want string }{
		{"abc", "", "/llcr/abc"},
		{"abc", "/my/group", "/my/group"},
		{"abc", "my/group", "/my/group"},
		{"abc", "../../etc", "/etc"},
		{"abc", "/a/./b/", "/a/b"},
	} {
		got, err := innerPath(tc.id, tc.path)
		if err != nil || got != tc.want {
			t.Errorf("innerPath(%q, %q) = %q, %v; want %q", tc.id, tc.path, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ id, path string }{
		{"", ""}, {"a/b", ""}, {"..", ""}, {"x", "/"}, {"x", ".."}, {"x", "system.slice:llcr:x"},
	} {
		if got, err := innerPath(tc.id, tc.path); err == nil {
			t.Errorf("innerPath(%q, %q) = %q, want an error", tc.id, tc.path, got)
		}
	}
}

func TestPathsV1OnlyNeededHierarchies(t *testing.T) {
	m, err := newManager(fakeV1(), "c1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory":  "/sys/fs/cgroup/memory/llcr/c1",
		"cpu":     "/sys/fs/cgroup/cpu,cpuacct/llcr/c1",
		"cpuacct": "/sys/fs/cgroup/cpu,cpuacct/llcr/c1",
		"pids":    "/sys/fs/cgroup/pids/llcr/c1",
		"freezer": "/sys/fs/cgroup/freezer/llcr/c1",
	}
	if got := m.Paths(); !maps.Equal(got, want) {
		t.Errorf("paths = %v, want %v", got, want)
	}
	// co-mounted cpu,cpuacct is one directory: joined and removed once
	if len(m.dirs) != 4 {
		t.Errorf("dirs = %v, want 4 distinct", m.dirs)
	}

	r := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		CPU:     &specs.LinuxCPU{Cpus: "0"},
	}
	m, err = newManager(fakeV1(), "c1", "/x", r)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Paths()
	if p["devices"] != "/sys/fs/cgroup/devices/x" || p["cpuset"] != "/sys/fs/cgroup/cpuset/x" {
		t.Errorf("configured devices/cpuset not joined: %v", p)
	}
	if _, ok := p["blkio"]; ok {
		t.Errorf("unconfigured blkio joined: %v", p)
	}
}

func TestPathsHybridJoinsUnified(t *testing.T) {
	m, err := newManager(fakeHybrid(), "c1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Paths()[""]; got != "/sys/fs/cgroup/unified/llcr/c1" {
		t.Errorf("unified path = %q", got)
	}
	if got := m.procsDir(); got != "/sys/fs/cgroup/unified/llcr/c1" {
		t.Errorf("procsDir = %q, want the unified one", got)
	}
}

func TestPathsV2(t *testing.T) {
	m, err := newManager(fakeV2("memory", "pids", "cpu"), "c1", "", &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(1 << 20))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Paths(), map[string]string{"": "/sys/fs/cgroup/llcr/c1"}; !maps.Equal(got, want) {
		t.Errorf("paths = %v, want %v", got, want)
	}
}

func TestMissingController(t *testing.T) {
	r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(20))}}
	_, err := newManager(fakeV1("pids"), "c1", "", r)
	want := `cgroup controller "pids" is not available on this host (no pids hierarchy under /sys/fs/cgroup): drop --pids-limit or enable it`
	if err == nil || err.Error() != want {
		t.Errorf("v1 error = %v\nwant %s", err, want)
	}
	// Unconfigured and missing is fine: the hierarchy is just not joined.
	m, err := newManager(fakeV1("pids", "freezer"), "c1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Paths()["pids"]; ok {
		t.Errorf("missing pids hierarchy in paths: %v", m.Paths())
	}

	_, err = newManager(fakeV2("cpu"), "c1", "", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}})
	if err == nil || !strings.Contains(err.Error(), `cgroup controller "memory" is not available on this host (not listed in /sys/fs/cgroup/cgroup.controllers): drop --memory`) {
		t.Errorf("v2 error = %v", err)
	}
	_, err = newManager(fakeV1("devices"), "c1", "", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "rwm"}}})
	if err == nil || !strings.Contains(err.Error(), `"devices"`) {
		t.Errorf("devices error = %v", err)
	}
}

func TestConvertMemorySwapCapped(t *testing.T) {
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))}}
	for _, tc := range []struct {
		name string
		h    *host
		swap int64
	}{
		{"v1 memsw", fakeV1(), 64 << 20},
		{"v1 no memsw", &host{mode: modeV1}, 0},
		{"v2", fakeV2(), 64 << 20}, // the library turns memory+swap == memory into memory.swap.max=0
	} {
		c, err := convert(tc.h, r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.res.Memory != 64<<20 || c.res.MemorySwap != tc.swap {
			t.Errorf("%s: memory=%d swap=%d, want swap %d", tc.name, c.res.Memory, c.res.MemorySwap, tc.swap)
		}
	}
	explicit := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Swap: ptr(int64(128 << 20))}}
	if c, err := convert(fakeV1(), explicit); err != nil || c.res.MemorySwap != 128<<20 {
		t.Errorf("explicit swap: %+v, %v", c, err)
	}
	if _, err := convert(&host{mode: modeV1}, explicit); err == nil {
		t.Error("explicit swap without swap accounting accepted")
	}
	low := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Swap: ptr(int64(1 << 20))}}
	if _, err := convert(fakeV1(), low); err == nil {
		t.Error("swap below memory accepted")
	}
}

func TestConvertCPUAndPids(t *testing.T) {
	r := &specs.LinuxResources{
		CPU:  &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(100000)), Shares: ptr(uint64(1024))},
		Pids: &specs.LinuxPids{Limit: ptr(int64(20))},
	}
	c, err := convert(fakeV1(), r)
	if err != nil {
		t.Fatal(err)
	}
	if c.res.CpuQuota != 50000 || c.res.CpuPeriod != 100000 || c.res.CpuShares != 1024 || *c.res.PidsLimit != 20 {
		t.Errorf("v1 resources = %+v", c.res)
	}
	if strings.Join(c.need, ",") != "cpu,pids" {
		t.Errorf("need = %v", c.need)
	}
	c, err = convert(fakeV2(), r)
	if err != nil {
		t.Fatal(err)
	}
	if c.res.CpuShares != 0 || c.res.CpuWeight != 100 {
		t.Errorf("v2 shares 1024 -> weight %d (shares %d), want 100", c.res.CpuWeight, c.res.CpuShares)
	}
}

func TestConvertDevices(t *testing.T) {
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"},
		{Allow: true, Type: "b", Major: ptr(int64(8)), Access: "m"},
	}}
	c, err := convert(fakeV1(), r)
	if err != nil {
		t.Fatal(err)
	}
	if c.res.SkipDevices || len(c.res.Devices) != 3 {
		t.Fatalf("devices = %+v skip=%v", c.res.Devices, c.res.SkipDevices)
	}
	got := []string{}
	for _, d := range c.res.Devices {
		got = append(got, d.CgroupString())
	}
	if want := "a *:* rwm|c 1:3 rw|b 8:* m"; strings.Join(got, "|") != want {
		t.Errorf("rules = %q, want %q", strings.Join(got, "|"), want)
	}
	if c.res.Devices[0].Allow || !c.res.Devices[1].Allow || c.res.Devices[2].Major != 8 || c.res.Devices[2].Minor != devconfig.Wildcard {
		t.Errorf("rule fields wrong: %+v %+v %+v", *c.res.Devices[0], *c.res.Devices[1], *c.res.Devices[2])
	}
	if c, _ := convert(fakeV1(), &specs.LinuxResources{}); !c.res.SkipDevices {
		t.Error("no rules must leave device access alone")
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "x"}, {Access: "rwx"}} {
		if _, err := convert(fakeV1(), &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{bad}}); err == nil {
			t.Errorf("bad rule %+v accepted", bad)
		}
	}
}

func TestConvertUnsupported(t *testing.T) {
	for name, tc := range map[string]struct {
		h *host
		r *specs.LinuxResources
	}{
		"network":      {fakeV1(), &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}}},
		"rdma":         {fakeV1(), &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"x": {}}}},
		"unified v1":   {fakeHybrid(), &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}},
		"kernel mem":   {fakeV1(), &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: ptr(int64(1))}}},
		"swappiness":   {fakeV2("memory"), &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(10))}}},
		"oom disable":  {fakeV2("memory"), &specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(true)}}},
		"rt on v2":     {fakeV2("cpu"), &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(1))}}},
		"swap no mem":  {fakeV2("memory"), &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr(int64(1 << 20))}}},
		"hierarchy=0":  {fakeV1(), &specs.LinuxResources{Memory: &specs.LinuxMemory{UseHierarchy: ptr(false)}}},
		"hugetlb size": {fakeV1(), &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Limit: 1}}}},
	} {
		if _, err := newManager(tc.h, "c1", "", tc.r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadValidatesPaths(t *testing.T) {
	good, err := newManager(fakeHybrid(), "c1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := load(fakeHybrid(), good.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(m.Paths(), good.Paths()) || len(m.dirs) != len(good.dirs) {
		t.Errorf("round trip: %v != %v", m.Paths(), good.Paths())
	}
	for _, bad := range []map[string]string{
		nil,
		{"memory": "/etc"},
		{"memory": "/sys/fs/cgroup/memory"},
		{"memory": "/sys/fs/cgroup/memory/../../x/y"},
		{"memory": "relative/x"},
	} {
		if _, err := load(fakeV1(), bad); err == nil {
			t.Errorf("load(%v) accepted", bad)
		}
	}
	if _, err := load(fakeV2(), map[string]string{"memory": "/sys/fs/cgroup/x"}); err == nil {
		t.Error("v1 paths accepted on v2")
	}
	if _, err := load(fakeV2(), map[string]string{"": "/sys/fs/cgroup/llcr/x"}); err != nil {
		t.Errorf("v2 load: %v", err)
	}
}

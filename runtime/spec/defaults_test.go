package spec

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefault(t *testing.T) {
	s := Default()
	if s.Version != specs.Version {
		t.Errorf("Version = %q", s.Version)
	}
	if s.Root == nil || s.Root.Path != "rootfs" || !s.Root.Readonly {
		t.Errorf("Root = %+v, want rootfs, read-only", s.Root)
	}
	p := s.Process
	if p == nil || p.Terminal || !reflect.DeepEqual(p.Args, []string{"sh"}) || p.Cwd != "/" || !p.NoNewPrivileges {
		t.Fatalf("Process = %+v", p)
	}
	if p.User.UID != 0 || p.User.GID != 0 {
		t.Errorf("User = %+v, want root", p.User)
	}
	if !slices.Contains(p.Env, defaultPath) {
		t.Errorf("Env = %q lacks PATH", p.Env)
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	c := p.Capabilities
	if !reflect.DeepEqual(c.Bounding, caps) || !reflect.DeepEqual(c.Effective, caps) || !reflect.DeepEqual(c.Permitted, caps) || c.Inheritable != nil || c.Ambient != nil {
		t.Errorf("Capabilities = %+v", c)
	}
	if !reflect.DeepEqual(p.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}) {
		t.Errorf("Rlimits = %+v", p.Rlimits)
	}
	checkDefaultMounts(t, s.Mounts)
	checkDefaultLinux(t, s.Linux)

	// The spec is written to config.json: it must survive a JSON round trip.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back specs.Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, s) {
		t.Error("Default() changes through a JSON round trip")
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := Default()
	a.Mounts[0].Destination = "/changed"
	a.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	a.Linux.MaskedPaths[0] = "/changed"
	b := Default()
	if b.Mounts[0].Destination != "/proc" || b.Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" || b.Linux.MaskedPaths[0] != "/proc/acpi" {
		t.Error("Default() shares state between calls")
	}
	c := capabilities(dockerCapabilities)
	c.Bounding[0] = "X"
	if c.Effective[0] == "X" || dockerCapabilities[0] == "X" {
		t.Error("capability sets alias each other")
	}
}

func checkDefaultMounts(t *testing.T, got []specs.Mount) {
	t.Helper()
	want := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	if len(got) < len(want) || !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("Mounts start\n  %+v\nwant\n  %+v", got, want)
	}
}

func checkDefaultLinux(t *testing.T, l *specs.Linux) {
	t.Helper()
	if l == nil || l.Resources == nil {
		t.Fatalf("Linux = %+v", l)
	}
	masked := []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap"}
	if !reflect.DeepEqual(l.MaskedPaths, masked) {
		t.Errorf("MaskedPaths = %q", l.MaskedPaths)
	}
	readonly := []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	if !reflect.DeepEqual(l.ReadonlyPaths, readonly) {
		t.Errorf("ReadonlyPaths = %q", l.ReadonlyPaths)
	}
	var ns []specs.LinuxNamespaceType
	for _, n := range l.Namespaces {
		if n.Path != "" {
			t.Errorf("namespace %s joins %s, want a new one", n.Type, n.Path)
		}
		ns = append(ns, n.Type)
	}
	for _, want := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace} {
		if !slices.Contains(ns, want) {
			t.Errorf("namespaces %v lack %s", ns, want)
		}
	}
	checkDevices(t, l.Resources.Devices)
}

// devRule renders a device rule as the devices cgroup writes it.
func devRule(d specs.LinuxDeviceCgroup) string {
	num := func(p *int64) string {
		if p == nil {
			return "*"
		}
		return strconv.FormatInt(*p, 10)
	}
	verdict := "deny"
	if d.Allow {
		verdict = "allow"
	}
	return verdict + " " + d.Type + " " + num(d.Major) + ":" + num(d.Minor) + " " + d.Access
}

func checkDevices(t *testing.T, got []specs.LinuxDeviceCgroup) {
	t.Helper()
	var rules []string
	for _, d := range got {
		rules = append(rules, devRule(d))
	}
	want := []string{
		"deny a *:* rwm", // first, so everything not allowed below is denied
		"allow c *:* m",
		"allow b *:* m",
		"allow c 1:3 rwm",
		"allow c 1:8 rwm",
		"allow c 1:7 rwm",
		"allow c 5:0 rwm",
		"allow c 1:5 rwm",
		"allow c 1:9 rwm",
		"allow c 136:* rwm",
		"allow c 5:2 rwm",
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("device rules\n  %q\nwant\n  %q", rules, want)
	}
}

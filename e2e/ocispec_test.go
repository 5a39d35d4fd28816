package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ocispecRun runs the bundle's script with run -b and returns its stdout.
func (e *env) ocispecRun(id, script string, edit func(s *specs.Spec)) string {
	e.t.Helper()
	b := e.ociBundle(func(s *specs.Spec) {
		s.Process.Args = []string{"/bin/sh", "-c", script}
		s.Process.Terminal = false
		edit(s)
	})
	r := e.run("run", "-b", b, id)
	if r.code != 0 {
		e.t.Fatalf("run -b: %s", r)
	}
	e.assertGone(id)
	return r.stdout
}

// Namespaced sysctls reach the container's namespaces (and not the host's),
// written before /proc/sys turns read-only.
func TestOCISpecSysctl(t *testing.T) {
	e := newEnv(t)
	hostShm, err := os.ReadFile("/proc/sys/kernel/shmmax")
	if err != nil {
		t.Fatal(err)
	}
	out := e.ocispecRun("ocsys", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; echo 0 > /proc/sys/kernel/shmmax || echo ro", func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "1" || lines[1] != "123456789" || lines[2] != "ro" {
		t.Errorf("in the container: %q, want ip_forward 1, shmmax 123456789, /proc/sys read-only", out)
	}
	if now, _ := os.ReadFile("/proc/sys/kernel/shmmax"); string(now) != string(hostShm) {
		t.Errorf("the host's kernel.shmmax changed: %q -> %q", hostShm, now)
	}
}

func TestOCISpecSysctlRefused(t *testing.T) {
	e := newEnv(t)
	b := e.ociBundle(func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "10"} })
	failsWith(t, e.run("run", "-b", b, "ocsysbad"), `linux.sysctl: sysctl "vm.swappiness": not namespaced`)
	b = e.ociBundle(func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/ipv4/ip_forward": "1"} })
	failsWith(t, e.run("run", "-b", b, "ocsysbad"), `sysctl "net/ipv4/ip_forward": not a valid key`)
	e.assertGone("ocsysbad")
}

// linux.devices: nodes with the spec's numbers, mode and owner, in
// subdirectories too; a path outside /dev is refused.
func TestOCISpecDevices(t *testing.T) {
	e := newEnv(t)
	mode, fifoMode := os.FileMode(0o600), os.FileMode(0o640)
	uid, gid := uint32(1000), uint32(1001)
	// As the node's owner: the default capabilities lack CAP_DAC_OVERRIDE,
	// so the write also proves the owner and mode took effect.
	out := e.ocispecRun("ocdev", `stat -c "%F %t:%T %a %u:%g" /dev/mynull /dev/sub/fifo; echo x > /dev/mynull && echo wrote`, func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid},
			{Path: "/dev/sub/fifo", Type: "p", FileMode: &fifoMode},
		}
		s.Process.User = specs.User{UID: uid, GID: gid}
	})
	want := "character special file 1:3 600 1000:1001\nfifo 0:0 640 0:0\nwrote\n"
	if out != want {
		t.Errorf("devices in the container:\n%q\nwant\n%q", out, want)
	}
	b := e.ociBundle(func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/mynull", Type: "c", Major: 1, Minor: 3}}
	})
	failsWith(t, e.run("run", "-b", b, "ocdevbad"), `linux.devices[0].path: "/etc/mynull" is not below /dev`)
}

// In a user namespace mknod is refused: the host's node is bound instead,
// keeping the host's mode and owner (runc does the same).
func TestOCISpecDevicesUserNS(t *testing.T) {
	e := newEnv(t)
	out := e.ocispecRun("ocdevns", `stat -c "%F %t:%T" /dev/mynull; echo x > /dev/mynull && echo wrote`, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3}}
	})
	if want := "character special file 1:3\nwrote\n"; out != want {
		t.Errorf("device in a user namespace: %q, want %q", out, want)
	}
}

func TestOCISpecOOMScoreAdj(t *testing.T) {
	e := newEnv(t)
	adj := 500
	out := e.ocispecRun("ocoom", "cat /proc/self/oom_score_adj", func(s *specs.Spec) { s.Process.OOMScoreAdj = &adj })
	if out != "500\n" {
		t.Errorf("oom_score_adj = %q, want 500", out)
	}
}

func TestOCISpecPersonality(t *testing.T) {
	e := newEnv(t)
	host, err := os.ReadFile("/proc/sys/kernel/arch")
	if err != nil || strings.TrimSpace(string(host)) != "x86_64" {
		t.Skipf("LINUX32 test needs an x86_64 host (arch %q)", host)
	}
	out := e.ocispecRun("ocpers", "uname -m", func(s *specs.Spec) {
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	})
	if out != "i686\n" {
		t.Errorf("uname -m with LINUX32 = %q, want i686", out)
	}
	out = e.ocispecRun("ocpers", "uname -m", func(s *specs.Spec) {
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
	})
	if out != "x86_64\n" {
		t.Errorf("uname -m with LINUX = %q, want x86_64", out)
	}
	b := e.ociBundle(func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX16"} })
	failsWith(t, e.run("run", "-b", b, "ocpersbad"), `linux.personality: domain "LINUX16": unknown`)
}

func TestOCISpecIOPriority(t *testing.T) {
	e := newEnv(t)
	out := e.ocispecRun("ocio", "ionice -p 1", func(s *specs.Spec) {
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
	})
	if out != "best-effort: prio 6\n" {
		t.Errorf("ionice -p 1 = %q, want best-effort: prio 6", out)
	}
	b := e.ociBundle(func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"} })
	failsWith(t, e.run("run", "-b", b, "ociobad"), `process.ioPriority: class "IOPRIO_CLASS_NONE": unknown`)
}

// The policy (field 41 of /proc/PID/stat) and nice (field 19) of the
// container's process 1.
func TestOCISpecScheduler(t *testing.T) {
	e := newEnv(t)
	out := e.ocispecRun("ocsched", "cut -d' ' -f19,41 /proc/1/stat", func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5}
	})
	if out != "5 3\n" {
		t.Errorf("nice and policy of pid 1 = %q, want \"5 3\" (SCHED_BATCH)", out)
	}
	b := e.ociBundle(func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedRR, Priority: 100} })
	failsWith(t, e.run("run", "-b", b, "ocschedbad"), "process.scheduler: priority 100: SCHED_RR needs 1..99")
}

// linux.timeOffsets: the container's boot time is a year earlier than the
// host's (its uptime a year longer), in a user namespace too; offsets
// without a time namespace are refused.
func TestOCISpecTimeOffsets(t *testing.T) {
	e := newEnv(t)
	if _, err := os.Stat("/proc/self/timens_offsets"); err != nil {
		t.Skip("no time namespaces on this kernel")
	}
	const year = 365 * 24 * 3600
	for _, userns := range []bool{false, true} {
		out := e.ocispecRun("octime", "cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: year}, "monotonic": {Secs: 7, Nanosecs: 5}}
			if userns {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			}
		})
		f := strings.Fields(out)
		if len(f) == 0 {
			t.Fatalf("userns %v: no output", userns)
		}
		up, err := strconv.Atoi(f[0])
		if got, want := strings.Join(f[1:], " "), "monotonic 7 5 boottime 31536000 0"; err != nil || up < year || got != want {
			t.Errorf("userns %v: uptime and offsets in the container: %q, want uptime above %d and offsets %q", userns, out, year, want)
		}
	}
	b := e.ociBundle(func(s *specs.Spec) {
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
	})
	failsWith(t, e.run("run", "-b", b, "octimebad"), "linux.timeOffsets: offsets need a new time namespace")
}

func TestOCISpecUnsupportedRefused(t *testing.T) {
	e := newEnv(t)
	b := e.ociBundle(func(s *specs.Spec) {
		s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth9": {Name: "eth0"}}
	})
	failsWith(t, e.run("run", "-b", b, "ocnetdev"), "linux.netDevices: moving host network devices into the container is not supported yet")
}

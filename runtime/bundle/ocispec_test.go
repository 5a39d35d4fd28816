package bundle

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateOCISpecFields(t *testing.T) {
	mode := os.FileMode(0o600)
	badMode := os.FileMode(0o4755)
	dropNS := func(s *specs.Spec, t specs.LinuxNamespaceType) {
		var keep []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != t {
				keep = append(keep, ns)
			}
		}
		s.Linux.Namespaces = keep
	}
	tests := []struct {
		name string
		edit func(*specs.Spec)
		want string // "" means valid
	}{
		{"sysctl ok", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "5"}
		}, ""},
		{"sysctl host", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} },
			`linux.sysctl: sysctl "vm.swappiness": not namespaced`},
		{"sysctl dotdot", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net..x": "1"} }, `sysctl "net..x": not a valid key`},
		{"sysctl slash", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/ipv4": "1"} }, `sysctl "net/ipv4": not a valid key`},
		{"sysctl no netns", func(s *specs.Spec) {
			dropNS(s, specs.NetworkNamespace)
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `sysctl "net.ipv4.ip_forward": needs a private network namespace`},
		{"sysctl host netns", func(s *specs.Spec) {
			for i := range s.Linux.Namespaces {
				if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
					s.Linux.Namespaces[i].Path = "/proc/self/ns/net"
				}
			}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `sysctl "net.ipv4.ip_forward": the network namespace /proc/self/ns/net is the host's`},
		{"sysctl no ipcns", func(s *specs.Spec) {
			dropNS(s, specs.IPCNamespace)
			s.Linux.Sysctl = map[string]string{"kernel.sem": "1"}
		}, `sysctl "kernel.sem": needs a private ipc namespace`},
		{"sysctl hostname conflict", func(s *specs.Spec) {
			s.Hostname = "h"
			s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"}
		}, "conflicts with hostname"},
		{"device ok", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: &mode}}
		}, ""},
		{"device outside dev", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/x", Type: "c", Major: 1, Minor: 3}}
		}, `linux.devices[0].path: "/etc/x" is not below /dev`},
		{"device escape", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/../etc/x", Type: "c", Major: 1, Minor: 3}}
		}, "is not below /dev"},
		{"device type", func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}} },
			`linux.devices[0].type: "z"`},
		{"device mode", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: 1, Minor: 3, FileMode: &badMode}}
		}, "only permission bits"},
		{"personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"} },
			`linux.personality: domain "LINUX64": unknown`},
		{"ioprio class", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_X"} },
			`process.ioPriority: class "IOPRIO_CLASS_X": unknown`},
		{"ioprio level", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}
		}, "process.ioPriority: priority 8: out of range"},
		{"sched ok", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5} }, ""},
		{"sched iso", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedISO} },
			`process.scheduler: policy "SCHED_ISO"`},
		{"sched fifo prio", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO} },
			"SCHED_FIFO needs 1..99"},
		{"timeOffsets ok", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -1}, "boottime": {Secs: 1, Nanosecs: 5}}
		}, ""},
		{"timeOffsets no timens", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets: offsets need a new time namespace"},
		{"timeOffsets clock", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, `linux.timeOffsets: "realtime": not a clock`},
		{"timeOffsets nanosecs", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, "linux.timeOffsets: boottime.nanosecs: 1000000000 is not below one second"},
		{"netDevices", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth9": {}}
		}, "linux.netDevices: moving host network devices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeBundle(t, tt.edit))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

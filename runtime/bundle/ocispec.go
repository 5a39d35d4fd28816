package bundle

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/initproc"
)

// validateProcessAttrs checks the process fields the init applies with one
// syscall each, with the kernel's own limits, so a bad value fails here.
func validateProcessAttrs(p *specs.Process) error {
	if p.IOPriority != nil {
		if _, err := initproc.IOPriority(p.IOPriority); err != nil {
			return fmt.Errorf("process.ioPriority: %w", err)
		}
	}
	if p.Scheduler != nil {
		if _, err := initproc.SchedAttr(p.Scheduler); err != nil {
			return fmt.Errorf("process.scheduler: %w", err)
		}
	}
	return nil
}

// validateLinuxExtras checks sysctls, devices and personality, and refuses
// what is not implemented rather than silently ignoring it.
func validateLinuxExtras(s *specs.Spec) error {
	l := s.Linux
	keys := make([]string, 0, len(l.Sysctl))
	for k := range l.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := initproc.CheckSysctl(s, k); err != nil {
			return fmt.Errorf("linux.sysctl: %w", err)
		}
		if strings.HasPrefix(k, "net.") {
			if err := checkPrivateNetns(l, k); err != nil {
				return fmt.Errorf("linux.sysctl: %w", err)
			}
		}
	}
	seen := map[string]bool{}
	for i, d := range l.Devices {
		if _, ok := initproc.DeviceType(d.Type); !ok {
			return fmt.Errorf("linux.devices[%d].type: %q is not one of c, b, u, p", i, d.Type)
		}
		// Elsewhere a node would land in the user's rootfs, outside the
		// tmpfs the runtime owns.
		if !initproc.InDev(d.Path) {
			return fmt.Errorf("linux.devices[%d].path: %q is not below /dev", i, d.Path)
		}
		if seen[d.Path] {
			return fmt.Errorf("linux.devices[%d].path: %s listed twice", i, d.Path)
		}
		seen[d.Path] = true
		if d.Type != "p" && (d.Major < 0 || d.Minor < 0 || d.Major > 0xfff || d.Minor > 0xfffff) {
			return fmt.Errorf("linux.devices[%d]: %d:%d is not a valid device number", i, d.Major, d.Minor)
		}
		if d.FileMode != nil && *d.FileMode&^0o777 != 0 {
			return fmt.Errorf("linux.devices[%d].fileMode: %o: only permission bits are allowed", i, *d.FileMode)
		}
	}
	if l.Personality != nil {
		if _, err := initproc.Personality(l.Personality); err != nil {
			return fmt.Errorf("linux.personality: %w", err)
		}
	}
	if len(l.TimeOffsets) > 0 {
		if !initproc.TimeOffsetsInChild(s) {
			return errors.New("linux.timeOffsets: offsets need a new time namespace in linux.namespaces")
		}
		if err := initproc.CheckTimeOffsets(l.TimeOffsets); err != nil {
			return fmt.Errorf("linux.timeOffsets: %w", err)
		}
	}
	if len(l.NetDevices) > 0 {
		return errors.New("linux.netDevices: moving host network devices into the container is not supported yet")
	}
	return nil
}

// checkPrivateNetns refuses net.* keys when the joined network namespace
// is the runtime's own: the write would change the host's network.
func checkPrivateNetns(l *specs.Linux, key string) error {
	for _, ns := range l.Namespaces {
		if ns.Type != specs.NetworkNamespace || ns.Path == "" {
			continue
		}
		joined, err1 := os.Stat(ns.Path)
		own, err2 := os.Stat("/proc/self/ns/net")
		if err1 != nil || err2 != nil {
			return nil // the start reports a missing namespace path itself
		}
		a, ok1 := joined.Sys().(*syscall.Stat_t)
		b, ok2 := own.Sys().(*syscall.Stat_t)
		if ok1 && ok2 && a.Dev == b.Dev && a.Ino == b.Ino {
			return fmt.Errorf("sysctl %q: the network namespace %s is the host's", key, ns.Path)
		}
	}
	return nil
}

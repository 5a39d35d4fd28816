package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Version is the runtime's version, printed by --version.
const Version = "0.1.0"

func versionText() string {
	return fmt.Sprintf("container version %s\nspec: %s\ngo: %s", Version, specs.Version, runtime.Version())
}

// systemdCgroupsPath applies --systemd-cgroup to a bundle's spec. Without
// systemd there is nobody to ask for a scope, so the flag is an error
// rather than silently meaning cgroupfs. With systemd, the
// "slice:prefix:name" form containerd passes is turned into the path
// systemd would give the scope, managed through cgroupfs: llcr has no
// systemd driver yet (the scope is not registered with systemd).
func (g *Globals) systemdCgroupsPath(s *specs.Spec) error {
	if !g.SystemdCgroup {
		return nil
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return errors.New("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system): drop the flag to use cgroupfs")
	}
	if s.Linux == nil || s.Linux.CgroupsPath == "" {
		return nil
	}
	parts := strings.Split(s.Linux.CgroupsPath, ":")
	if len(parts) != 3 {
		return fmt.Errorf("linux.cgroupsPath: %q: with --systemd-cgroup it must be slice:prefix:name", s.Linux.CgroupsPath)
	}
	slice := parts[0]
	if slice == "" {
		slice = "system.slice"
	}
	scope := parts[2] + ".scope"
	if parts[1] != "" {
		scope = parts[1] + "-" + scope
	}
	s.Linux.CgroupsPath = "/" + slice + "/" + scope
	return nil
}

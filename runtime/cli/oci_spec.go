package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/bundle"
	"llcr/runtime/spec"
)

// SpecCmd is runc's `spec`: a starting config.json for a bundle.
type SpecCmd struct {
	Bundle   string `short:"b" help:"Bundle directory to write config.json into (default: the current directory)." type:"path"`
	Rootless bool   `help:"A spec for a container of an unprivileged user (user namespace, no network namespace, no cgroup limits)."`
}

func (c *SpecCmd) Run(g *Globals) error {
	dir := c.Bundle
	if dir == "" {
		dir = "."
	}
	s := spec.Default()
	if c.Rootless {
		rootless(s)
	}
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	p := filepath.Join(dir, bundle.ConfigFile)
	// O_EXCL: like runc, never overwrite someone's edited config.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists: remove it first", p)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// rootless adapts the default spec the way runc's --rootless does: the
// caller's ids mapped to root in a user namespace, the host's network (an
// unprivileged user cannot configure one), /sys bound rather than mounted
// (sysfs needs a network namespace of our own), and no cgroup limits.
func rootless(s *specs.Spec) {
	l := s.Linux
	var ns []specs.LinuxNamespace
	for _, n := range l.Namespaces {
		if n.Type != specs.NetworkNamespace && n.Type != specs.UserNamespace {
			ns = append(ns, n)
		}
	}
	l.Namespaces = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	l.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	l.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	l.Resources = nil
	var mounts []specs.Mount
	for _, m := range s.Mounts {
		switch m.Destination {
		case "/sys":
			m = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
				Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		case "/sys/fs/cgroup":
			continue
		case "/dev/pts":
			// gid=5 is not mapped in a single-id user namespace.
			var opts []string
			for _, o := range m.Options {
				if o != "gid=5" {
					opts = append(opts, o)
				}
			}
			m.Options = opts
		}
		mounts = append(mounts, m)
	}
	s.Mounts = mounts
}

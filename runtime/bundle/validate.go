package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/initproc"
)

// ociVersion accepts any 1.x: the spec promises backward compatibility
// within a major version, and bundles written for 1.0.2 are common.
var ociVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^1\.[0-9]+\.[0-9]+(-[0-9A-Za-z.+-]*)?$`) })

// Validate checks what llcr relies on or does not support, naming the field
// of the first problem (root.path must already be absolute).
func Validate(s *specs.Spec) error {
	if !ociVersion().MatchString(s.Version) {
		return fmt.Errorf("ociVersion: %q is not supported: this runtime implements 1.x (up to %s)", s.Version, specs.Version)
	}
	if err := validateRoot(s.Root); err != nil {
		return err
	}
	if err := validateProcess(s.Process); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		if m.Destination == "" || !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination: %q is not an absolute path", i, m.Destination)
		}
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	if err := validateLinux(s.Linux); err != nil {
		return err
	}
	if s.Linux == nil {
		return nil
	}
	return validateLinuxExtras(s)
}

func validateRoot(r *specs.Root) error {
	fi, err := os.Stat(r.Path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("root.path: %s does not exist", r.Path)
	}
	if err != nil {
		return fmt.Errorf("root.path: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("root.path: %s is not a directory", r.Path)
	}
	return nil
}

func validateProcess(p *specs.Process) error {
	if p == nil {
		return errors.New("process: missing: nothing to run")
	}
	if len(p.Args) == 0 || p.Args[0] == "" {
		return errors.New("process.args: empty: nothing to run")
	}
	if p.Cwd != "" && !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd: %q is not an absolute path", p.Cwd)
	}
	if c := p.Capabilities; c != nil {
		sets := []struct {
			name  string
			names []string
		}{{"bounding", c.Bounding}, {"effective", c.Effective}, {"inheritable", c.Inheritable},
			{"permitted", c.Permitted}, {"ambient", c.Ambient}}
		for _, set := range sets {
			for i, n := range set.names {
				if _, ok := initproc.CapabilityByName(n); !ok {
					return fmt.Errorf("process.capabilities.%s[%d]: unknown capability %q", set.name, i, n)
				}
			}
		}
	}
	seen := map[string]bool{}
	for i, r := range p.Rlimits {
		if _, ok := initproc.RlimitByName(r.Type); !ok {
			return fmt.Errorf("process.rlimits[%d].type: unknown rlimit %q", i, r.Type)
		}
		if seen[r.Type] {
			return fmt.Errorf("process.rlimits[%d].type: %s given twice", i, r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits[%d]: soft limit %d above hard limit %d", i, r.Soft, r.Hard)
		}
	}
	if err := validateProcessAttrs(p); err != nil {
		return err
	}
	return validateLSM(p)
}

func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, k := range hookKinds(h) {
		// Not run yet: a hook silently skipped could leave the container
		// without something it depends on.
		if (k.name == CreateContainer || k.name == StartContainer) && len(k.hooks) > 0 {
			return fmt.Errorf("hooks.%s: %s hooks are not supported yet", k.name, k.name)
		}
		for i, hook := range k.hooks {
			if !filepath.IsAbs(hook.Path) {
				return fmt.Errorf("hooks.%s[%d].path: %q is not an absolute path", k.name, i, hook.Path)
			}
			if hook.Timeout != nil && *hook.Timeout <= 0 {
				return fmt.Errorf("hooks.%s[%d].timeout: %d: must be a positive number of seconds", k.name, i, *hook.Timeout)
			}
		}
	}
	return nil
}

// namespaces are the types the runtime can create; joining by path is
// limited to the network namespace (package launch).
var namespaces = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

func validateLinux(l *specs.Linux) error {
	if l == nil {
		return nil
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range l.Namespaces {
		if !namespaces[ns.Type] {
			return fmt.Errorf("linux.namespaces[%d].type: unknown namespace %q", i, ns.Type)
		}
		if seen[ns.Type] {
			return fmt.Errorf("linux.namespaces[%d].type: namespace %q listed twice", i, ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && ns.Type != specs.NetworkNamespace {
			return fmt.Errorf("linux.namespaces[%d].path: joining an existing %s namespace is not supported yet", i, ns.Type)
		}
	}
	if (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) && !seen[specs.UserNamespace] {
		return errors.New("linux.uidMappings: id mappings need a user namespace in linux.namespaces")
	}
	if seen[specs.UserNamespace] && len(l.UIDMappings) == 0 {
		return errors.New("linux.uidMappings: a new user namespace needs uid mappings")
	}
	// Running without the filter the bundle asks for would be a silent
	// loss of confinement: refuse until seccomp is implemented.
	if l.Seccomp != nil {
		return errors.New("linux.seccomp: seccomp filters are not supported yet")
	}
	if l.MountLabel != "" && !SELinuxEnabled() {
		return fmt.Errorf("linux.mountLabel: %q given but SELinux is not enabled on this host", l.MountLabel)
	}
	return nil
}

type hookKind struct {
	name  string
	hooks []specs.Hook
}

//nolint:staticcheck // Prestart is deprecated but still in use; it runs with createRuntime.
func hookKinds(h *specs.Hooks) []hookKind {
	return []hookKind{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	}
}

// Package cgroup owns one container's cgroup on cgroup v1, v2 and hybrid
// hosts. It is a thin layer over github.com/opencontainers/cgroups: llcr
// decides which hierarchies a container uses and when, the library writes
// the limit files.
package cgroup

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Manager owns one container's cgroup(s).
type Manager struct {
	h *host
	// paths maps each hierarchy in use to the container's directory in it;
	// on v1 the key is the controller, "" is the unified hierarchy.
	paths map[string]string
	// dirs are the distinct directories of paths (co-mounted controllers
	// such as cpu,cpuacct share one), in a stable order.
	dirs []string
	res  *cgroups.Resources
	lib  cgroups.Manager
	// need are the controllers the limits use (v1 names), checked again on
	// v2 once the cgroup exists since a parent may not delegate them.
	need []string

	memLimit int64
	// loaded managers learn the memory limit from the cgroup on demand.
	loaded bool
}

// New prepares (does not create anything) the cgroup for container id.
// cgroupsPath "" means "/llcr/<id>" below every hierarchy root; any other
// path, absolute or relative, is taken from the hierarchy root. r may be nil
// (no limits). Settings llcr cannot apply on this host are rejected here.
func New(id, cgroupsPath string, r *specs.LinuxResources) (*Manager, error) {
	h, err := detectedHost()
	if err != nil {
		return nil, err
	}
	return newManager(h, id, cgroupsPath, r)
}

func newManager(h *host, id, cgroupsPath string, r *specs.LinuxResources) (*Manager, error) {
	inner, err := innerPath(id, cgroupsPath)
	if err != nil {
		return nil, err
	}
	conv, err := convert(h, r)
	if err != nil {
		return nil, fmt.Errorf("cgroup limits for %s: %w", id, err)
	}
	paths, err := h.computePaths(inner, conv.need)
	if err != nil {
		return nil, err
	}
	m, err := build(h, paths, conv.res)
	if err != nil {
		return nil, err
	}
	m.need = conv.need
	m.memLimit = max(conv.res.Memory, 0)
	return m, nil
}

// Load rebuilds a manager from Paths, e.g. for `delete -f` after the process
// that created the cgroup died. It knows no limits; it can join, kill,
// freeze, report and destroy.
func Load(paths map[string]string) (*Manager, error) {
	h, err := detectedHost()
	if err != nil {
		return nil, err
	}
	return load(h, paths)
}

func load(h *host, paths map[string]string) (*Manager, error) {
	if err := checkPaths(h, paths); err != nil {
		return nil, err
	}
	m, err := build(h, maps.Clone(paths), &cgroups.Resources{SkipDevices: true})
	if err != nil {
		return nil, err
	}
	m.loaded = true
	return m, nil
}

func build(h *host, paths map[string]string, res *cgroups.Resources) (*Manager, error) {
	m := &Manager{h: h, paths: paths, res: res}
	seen := make(map[string]bool, len(paths))
	for _, k := range slices.Sorted(maps.Keys(paths)) {
		if d := paths[k]; !seen[d] {
			seen[d] = true
			m.dirs = append(m.dirs, d)
		}
	}
	cfg := &cgroups.Cgroup{Resources: res}
	var err error
	if h.mode == modeV2 {
		m.lib, err = fs2.NewManager(cfg, paths[""])
	} else {
		// The library keeps (and on some errors edits) its map: give it a copy.
		m.lib, err = fs.NewManager(cfg, maps.Clone(paths))
	}
	if err != nil {
		return nil, fmt.Errorf("set up cgroup manager for %s: %w", m.name(), err)
	}
	return m, nil
}

// Paths is what state.json stores so that Load can rebuild the manager.
func (m *Manager) Paths() map[string]string { return maps.Clone(m.paths) }

// MemoryLimit is the configured memory limit in bytes (0 = none), for messages.
func (m *Manager) MemoryLimit() int64 {
	if m.loaded && m.memLimit == 0 {
		m.memLimit = m.readMemoryLimit()
	}
	return m.memLimit
}

// name is the cgroup as seen from a hierarchy root ("/llcr/<id>"), for
// messages that are not about one hierarchy.
func (m *Manager) name() string {
	if len(m.dirs) == 0 {
		return "(no cgroup)"
	}
	rel := strings.TrimPrefix(m.dirs[0], m.h.root)
	if m.h.mode != modeV2 {
		// Drop the hierarchy's own directory ("/memory", "/unified").
		if i := strings.IndexByte(rel[1:], '/'); i >= 0 {
			rel = rel[i+1:]
		}
	}
	return rel
}

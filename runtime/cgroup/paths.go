package cgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// parentName is the directory shared by all llcr containers, below each
// hierarchy root; it may outlive them.
const parentName = "llcr"

// baseV1 are the v1 controllers joined even when nothing limits them, if the
// host has them: memory reports OOM kills, freezer backs pause and KillAll,
// cpu, cpuacct and pids give stats. The rest (blkio, net_cls, perf_event...)
// cost a mkdir and a write each on a hot path, so they are joined only when a
// limit needs them.
var baseV1 = []string{"memory", "cpu", "cpuacct", "pids", "freezer"}

// innerPath is the container's cgroup as a path from a hierarchy's root.
func innerPath(id, cgroupsPath string) (string, error) {
	if cgroupsPath == "" {
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
			return "", fmt.Errorf("container id %q cannot name a cgroup", id)
		}
		return "/" + parentName + "/" + id, nil
	}
	if strings.Contains(cgroupsPath, ":") {
		return "", fmt.Errorf("cgroups path %q: systemd slice:prefix:name paths are not supported", cgroupsPath)
	}
	if strings.ContainsRune(cgroupsPath, 0) {
		return "", fmt.Errorf("cgroups path %q contains a NUL byte", cgroupsPath)
	}
	// Relative paths are rooted at the hierarchy root too; Clean of a rooted
	// path also stops ".." from climbing out of the hierarchy.
	p := filepath.Clean("/" + cgroupsPath)
	if p == "/" {
		return "", fmt.Errorf("cgroups path %q is the hierarchy root, which a container cannot own", cgroupsPath)
	}
	return p, nil
}

// computePaths maps each hierarchy the container uses ("" is the unified one)
// to its directory, failing on the first needed controller the host lacks.
func (h *host) computePaths(inner string, need []string) (map[string]string, error) {
	if h.mode == modeV2 {
		for _, c := range need {
			name := v2Name(c)
			if name == "" {
				continue
			}
			if !h.v2Controllers[name] {
				return nil, missingController(name,
					fmt.Sprintf("not listed in %s/cgroup.controllers", h.root), c)
			}
		}
		return map[string]string{"": filepath.Join(h.root, inner)}, nil
	}
	paths := make(map[string]string, len(baseV1)+len(need)+1)
	for _, c := range need {
		mnt, ok := h.mounts[c]
		if !ok {
			return nil, missingController(c, fmt.Sprintf("no %s hierarchy under %s", c, h.root), c)
		}
		paths[c] = filepath.Join(mnt, inner)
	}
	for _, c := range baseV1 {
		if mnt, ok := h.mounts[c]; ok {
			paths[c] = filepath.Join(mnt, inner)
		}
	}
	// Hybrid: the unified hierarchy is joined as well so that the process's
	// cgroup is the same in every hierarchy (and cgroup.kill works there).
	if mnt, ok := h.mounts[""]; ok {
		paths[""] = filepath.Join(mnt, inner)
	}
	return paths, nil
}

// v2Name is the cgroup v2 controller behind a v1 one, "" for the ones v2
// implements without a controller (devices via eBPF, freezer via cgroup.freeze).
func v2Name(v1 string) string {
	switch v1 {
	case "blkio":
		return "io"
	case "devices", "freezer", "cpuacct":
		return ""
	}
	return v1
}

// limitHint names what the user configured that needs a controller, so the
// error says what to drop.
var limitHint = map[string]string{
	"memory":  "--memory",
	"cpu":     "--cpus",
	"pids":    "--pids-limit",
	"cpuset":  "the cpuset limits",
	"devices": "the device rules",
	"blkio":   "the block I/O limits",
	"hugetlb": "the hugepage limits",
}

func missingController(name, why, v1 string) error {
	hint, ok := limitHint[v1]
	if !ok {
		hint = "the " + v1 + " limits"
	}
	return fmt.Errorf("cgroup controller %q is not available on this host (%s): drop %s or enable it", name, why, hint)
}

// checkPaths validates paths read back from state.json before anything is
// removed or killed through them.
func checkPaths(h *host, paths map[string]string) error {
	if len(paths) == 0 {
		return errors.New("no cgroup paths to load")
	}
	if _, ok := paths[""]; h.mode == modeV2 && (!ok || len(paths) != 1) {
		return fmt.Errorf("cgroup paths %v do not fit a cgroup v2 host", paths)
	}
	// v2 cgroups sit right below the root; v1 ones below a hierarchy mount.
	depth := 2
	if h.mode == modeV2 {
		depth = 1
	}
	for k, p := range paths {
		rel, ok := strings.CutPrefix(p, h.root+"/")
		if !ok || filepath.Clean(p) != p || strings.Count(rel, "/") < depth-1 {
			return fmt.Errorf("cgroup path %q for %q is not a container cgroup below %s", p, k, h.root)
		}
	}
	return nil
}

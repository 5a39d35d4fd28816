package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/opencontainers/cgroups"
)

// Cgroup layouts a host can have.
const (
	modeV1     = "v1"
	modeV2     = "v2"
	modeHybrid = "hybrid"
)

const (
	defaultRoot   = "/sys/fs/cgroup"
	hybridUnified = "/sys/fs/cgroup/unified"
)

// host is what New needs to know about the machine's cgroup layout. It is
// detected once per process (container start is a hot path) and tests build
// fake ones to exercise path computation and missing-controller errors.
type host struct {
	mode string
	root string
	// mounts maps a v1 controller to the mount point of its hierarchy
	// ("cpu" -> "/sys/fs/cgroup/cpu,cpuacct"); on hybrid hosts "" is the
	// unified hierarchy.
	mounts map[string]string
	// v2Controllers is the root cgroup.controllers of a pure v2 host.
	v2Controllers map[string]bool
	// memsw is whether v1 swap accounting exists (memory.memsw.*), without
	// which a swap limit cannot be written.
	memsw bool
	err   error
}

var (
	hostOnce sync.Once
	theHost  *host
)

func detectedHost() (*host, error) {
	hostOnce.Do(func() { theHost = detectHost() })
	return theHost, theHost.err
}

// Mode reports "v1", "v2" or "hybrid" for this host.
func Mode() string {
	h, _ := detectedHost()
	return h.mode
}

func detectHost() *host {
	h := &host{root: defaultRoot, mounts: map[string]string{}, v2Controllers: map[string]bool{}}
	switch {
	case cgroups.IsCgroup2UnifiedMode():
		h.mode = modeV2
		data, err := os.ReadFile(filepath.Join(h.root, "cgroup.controllers"))
		if err != nil {
			h.err = fmt.Errorf("read available cgroup controllers: %w", err)
			return h
		}
		for _, c := range strings.Fields(string(data)) {
			h.v2Controllers[c] = true
		}
		return h
	case cgroups.IsCgroup2HybridMode():
		h.mode = modeHybrid
		h.mounts[""] = hybridUnified
	default:
		h.mode = modeV1
	}
	mounts, err := cgroups.GetCgroupMounts(false)
	if err != nil {
		h.err = fmt.Errorf("find cgroup v1 mounts: %w", err)
		return h
	}
	for _, m := range mounts {
		for _, s := range m.Subsystems {
			h.mounts[s] = m.Mountpoint
		}
	}
	if mnt, ok := h.mounts["memory"]; ok {
		_, err := os.Stat(filepath.Join(mnt, "memory.memsw.limit_in_bytes"))
		h.memsw = err == nil
	}
	return h
}

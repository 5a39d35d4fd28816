package cgroup

import (
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"os"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
)

// Stats is the part of a cgroup's accounting `events` reports, in the
// shape of runc's events (field names included), so tools reading runc's
// output read ours.
type Stats struct {
	CPU    CPUStats    `json:"cpu"`
	Memory MemoryStats `json:"memory"`
	Pids   PidsStats   `json:"pids"`
}

// CPUStats are nanoseconds of CPU time.
type CPUStats struct {
	Usage CPUUsage `json:"usage"`
}

type CPUUsage struct {
	Total  uint64   `json:"total"`
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
	Percpu []uint64 `json:"percpu,omitempty"`
}

// MemoryStats are bytes; a limit of "no limit" is the kernel's largest value.
type MemoryStats struct {
	Cache uint64      `json:"cache"`
	Usage MemoryEntry `json:"usage"`
	Swap  MemoryEntry `json:"swap"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// PidsStats: a limit of 0 means none ("max").
type PidsStats struct {
	Current uint64 `json:"current"`
	Limit   uint64 `json:"limit"`
}

// Stats reads the cgroup's CPU, memory and pids accounting.
func (m *Manager) Stats() (*Stats, error) {
	s, err := m.lib.GetStats()
	if err != nil {
		return nil, fmt.Errorf("read stats of cgroup %s: %w", m.name(), err)
	}
	c, mem := s.CpuStats.CpuUsage, s.MemoryStats
	return &Stats{
		CPU: CPUStats{Usage: CPUUsage{Total: c.TotalUsage, Kernel: c.UsageInKernelmode,
			User: c.UsageInUsermode, Percpu: c.PercpuUsage}},
		Memory: MemoryStats{
			Cache: mem.Cache,
			Usage: MemoryEntry{Limit: mem.Usage.Limit, Usage: mem.Usage.Usage, Max: mem.Usage.MaxUsage, Failcnt: mem.Usage.Failcnt},
			Swap:  MemoryEntry{Limit: mem.SwapUsage.Limit, Usage: mem.SwapUsage.Usage, Max: mem.SwapUsage.MaxUsage, Failcnt: mem.SwapUsage.Failcnt},
		},
		Pids: PidsStats{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit},
	}, nil
}

// OOMKills is the cgroup's count of OOM kills (0 without memory
// accounting), which `events` watches for rises.
func (m *Manager) OOMKills() (uint64, error) {
	var (
		n   uint64
		err error
		dir string
	)
	if m.h.mode == modeV2 {
		dir = m.paths[""]
		n, err = fs2.OOMKillCount(dir)
	} else {
		var ok bool
		if dir, ok = m.paths["memory"]; !ok {
			return 0, nil
		}
		n, err = fs.OOMKillCount(dir)
	}
	if err != nil {
		return 0, fmt.Errorf("read OOM kill count of cgroup %s: %w", dir, err)
	}
	return n, nil
}

// Frozen reports whether the cgroup is frozen (paused). Without a freezer
// nothing can be, and a cgroup that is gone is not.
func (m *Manager) Frozen() (bool, error) {
	if _, ok := m.paths["freezer"]; m.h.mode != modeV2 && !ok {
		return false, nil
	}
	st, err := m.lib.GetFreezerState()
	if err != nil {
		// ENODEV: the cgroup is being removed (its monitor tears it down
		// right after the container died) — as gone as ENOENT.
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
			return false, nil
		}
		return false, fmt.Errorf("read freezer state of cgroup %s: %w", m.name(), err)
	}
	return st == cgroups.Frozen, nil
}

// IsNoFreezer reports an error of Freeze or Thaw on a host without a freezer.
func IsNoFreezer(err error) bool { return errors.Is(err, errNoFreezer) }

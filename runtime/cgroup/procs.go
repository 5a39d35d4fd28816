package cgroup

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// killTimeout bounds how long KillAll waits for the kernel to empty the
// cgroup; SIGKILLed processes normally vanish within milliseconds.
const killTimeout = 5 * time.Second

// useCgroupKill is off only in tests of the fallback for kernels before 5.14.
var useCgroupKill = true

// procsDir is the directory whose cgroup.procs lists the container's
// processes: the unified one when there is one (every process joins it),
// else a v1 hierarchy every container joins.
func (m *Manager) procsDir() string {
	for _, k := range []string{"", "freezer", "memory", "pids", "cpu"} {
		if p, ok := m.paths[k]; ok {
			return p
		}
	}
	if len(m.dirs) > 0 {
		return m.dirs[0]
	}
	return ""
}

// Pids lists the processes in the cgroup and its descendants. A cgroup that
// no longer exists has none.
func (m *Manager) Pids() ([]int, error) {
	dir := m.procsDir()
	var err error
	for range 3 {
		var pids []int
		if pids, err = cgroups.GetAllPids(dir); err == nil {
			return pids, nil
		}
		if errors.Is(err, unix.ENODEV) {
			return nil, nil // the cgroup is being removed: empty
		}
		if !errors.Is(err, os.ErrNotExist) {
			break
		}
		if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) {
			return nil, nil
		}
		// A sub-cgroup vanished during the walk: walk again.
	}
	return nil, fmt.Errorf("list processes of cgroup %s: %w", dir, err)
}

// KillAll SIGKILLs every process in the cgroup and waits (bounded) until
// the cgroup is empty.
func (m *Manager) KillAll() error {
	if _, err := os.Stat(m.procsDir()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if !m.killByCgroup() {
		// Freezing first stops processes from forking past the kill loop;
		// without a freezer the wait loop below re-kills stragglers.
		frozen := m.Freeze() == nil
		if err := m.signalAll(); err != nil {
			if frozen {
				_ = m.Thaw()
			}
			return err
		}
	}
	// A frozen (paused) container would keep its SIGKILL pending forever.
	if err := m.Thaw(); err != nil && !errors.Is(err, errNoFreezer) {
		return err
	}
	return m.waitEmpty()
}

// killByCgroup uses cgroup.kill (Linux 5.14+), which kills the whole
// subtree atomically, forks included. On hybrid hosts the unified hierarchy
// holds every process too, so it works there as well.
func (m *Manager) killByCgroup() bool {
	if !useCgroupKill {
		return false
	}
	dir, ok := m.paths[""]
	return ok && cgroups.WriteFile(dir, "cgroup.kill", "1") == nil
}

func (m *Manager) signalAll() error {
	pids, err := m.Pids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fmt.Errorf("kill pid %d of cgroup %s: %w", pid, m.procsDir(), err)
		}
	}
	return nil
}

func (m *Manager) waitEmpty() error {
	deadline := time.Now().Add(killTimeout)
	delay := time.Millisecond
	for {
		pids, err := m.Pids()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s still has processes %v %v after SIGKILL", m.procsDir(), pids, killTimeout)
		}
		// Processes forked while we listed escaped the first round.
		if err := m.signalAll(); err != nil {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

var errNoFreezer = errors.New("no freezer cgroup for this container")

// Freeze stops every process of the cgroup (v1 freezer, v2 cgroup.freeze).
func (m *Manager) Freeze() error { return m.setFreezer(cgroups.Frozen) }

// Thaw resumes the processes Freeze stopped.
func (m *Manager) Thaw() error { return m.setFreezer(cgroups.Thawed) }

func (m *Manager) setFreezer(state cgroups.FreezerState) error {
	dir := m.paths[""]
	if m.h.mode != modeV2 {
		var ok bool
		if dir, ok = m.paths["freezer"]; !ok {
			return fmt.Errorf("set cgroup freezer to %s: %w (no freezer hierarchy on this host)", state, errNoFreezer)
		}
	}
	if err := m.lib.Freeze(state); err != nil {
		return fmt.Errorf("set cgroup %s to %s: %w", dir, state, err)
	}
	return nil
}

// OOMKilled reports whether the kernel OOM killer killed a process of this
// cgroup. Without memory accounting there is nothing to report.
func (m *Manager) OOMKilled() (bool, error) {
	n, err := m.OOMKills()
	if errors.Is(err, os.ErrNotExist) {
		// The cgroup is already gone: nothing left to report.
		return false, nil
	}
	return n > 0, err
}

// readMemoryLimit recovers the limit of a loaded manager; 0 when unlimited
// or unreadable, since it only feeds messages.
func (m *Manager) readMemoryLimit() int64 {
	dir, file := m.paths["memory"], "memory.limit_in_bytes"
	if m.h.mode == modeV2 {
		dir, file = m.paths[""], "memory.max"
	}
	if dir == "" {
		return 0
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	// v1 spells "unlimited" as the largest page-aligned int64.
	if err != nil || v <= 0 || v >= math.MaxInt64&^0xfff {
		return 0
	}
	return v
}

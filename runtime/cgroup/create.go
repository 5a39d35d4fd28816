package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// Create makes the directories and writes all limits before any process
// joins, so that on v2 the child can be born inside (CLONE_INTO_CGROUP) and
// on v1 it is never briefly unlimited. On failure it removes the
// directories it made.
func (m *Manager) Create() error {
	// Destroy removes the shared parent once empty; a start racing with
	// the last container's teardown can see it vanish between creating the
	// parent and the leaf, which shows as ENOENT: make it again.
	var err error
	for try := 0; try < 5; try++ {
		if m.h.mode == modeV2 {
			err = m.createV2()
		} else {
			err = m.createV1()
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return err
}

func (m *Manager) createV1() (err error) {
	var made []string
	defer func() {
		if err != nil {
			m.undo(made)
		}
	}()
	// Make the leaves ourselves to learn which ones we own and must undo.
	for _, dir := range m.dirs {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fmt.Errorf("create cgroup parent: %w", err)
		}
		if err := os.Mkdir(dir, 0o755); err == nil {
			made = append(made, dir)
		} else if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create cgroup: %w", err)
		}
	}
	// With pid -1 the library only prepares the directories (cpuset
	// inheritance, realtime budget) without moving anything in.
	if err := m.lib.Apply(-1); err != nil {
		return fmt.Errorf("prepare cgroup %s: %w", m.name(), err)
	}
	if err := m.lib.Set(m.res); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", m.name(), err)
	}
	return nil
}

func (m *Manager) createV2() (err error) {
	dir := m.paths[""]
	_, statErr := os.Stat(dir)
	existed := statErr == nil
	// Apply(-1) creates the directory, enabling the controllers in every
	// ancestor's cgroup.subtree_control, and cleans up after itself.
	if err := m.lib.Apply(-1); err != nil {
		return fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	defer func() {
		if err != nil && !existed {
			m.undo([]string{dir})
		}
	}()
	if err := m.checkDelegated(dir); err != nil {
		return err
	}
	if err := m.lib.Set(m.res); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", dir, err)
	}
	return nil
}

// checkDelegated catches a controller the host has but that an ancestor did
// not pass down, which otherwise surfaces as a confusing ENOENT on a limit
// file.
func (m *Manager) checkDelegated(dir string) error {
	if len(m.need) == 0 {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read controllers of cgroup %s: %w", dir, err)
	}
	have := strings.Fields(string(data))
	for _, c := range m.need {
		name := v2Name(c)
		if name != "" && !slices.Contains(have, name) {
			return missingController(name,
				"not enabled in cgroup.subtree_control above "+dir, c)
		}
	}
	return nil
}

// undo removes directories Create made, deepest first; the shared parent
// stays. It is best effort: the error being returned matters more.
func (m *Manager) undo(dirs []string) {
	for _, d := range slices.Backward(dirs) {
		_ = cgroups.RemovePath(d)
	}
}

// Fd opens the v2 cgroup directory for SysProcAttr.UseCgroupFD/CgroupFD, so
// the child is born inside it; the caller closes fd once the child started.
// ok is false on v1 and hybrid hosts, where the caller uses Join after clone.
func (m *Manager) Fd() (fd int, ok bool, err error) {
	if m.h.mode != modeV2 {
		return -1, false, nil
	}
	dir := m.paths[""]
	fd, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	return fd, true, nil
}

// Join moves pid into every hierarchy of this cgroup.
func (m *Manager) Join(pid int) error {
	for _, dir := range m.dirs {
		if err := cgroups.WriteCgroupProc(dir, pid); err != nil {
			return fmt.Errorf("move pid %d into cgroup %s: %w", pid, dir, err)
		}
	}
	return nil
}

// Destroy removes the container's directory in every hierarchy (and any
// sub-cgroups the container made), leaving the shared parent. A cgroup that
// is already gone counts as removed, so Destroy can be repeated. It fails
// while processes remain: KillAll first.
func (m *Manager) Destroy() error {
	var errs []error
	for _, dir := range m.dirs {
		if err := cgroups.RemovePath(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
			continue
		}
		// The shared parent goes with the last container, so an idle host
		// keeps no llcr cgroup at all; rmdir fails harmlessly while
		// another container's cgroup is in it.
		if parent := filepath.Dir(dir); filepath.Base(parent) == parentName {
			unix.Rmdir(parent)
		}
	}
	return errors.Join(errs...)
}

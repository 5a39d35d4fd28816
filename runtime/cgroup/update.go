package cgroup

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Update writes new limits to a cgroup that exists (runc's `update`). Only
// the settings r has are written. A v1 limit whose hierarchy the container
// never joined is refused: writing it elsewhere would limit nothing.
func (m *Manager) Update(r *specs.LinuxResources) error {
	conv, err := convert(m.h, r)
	if err != nil {
		return fmt.Errorf("cgroup limits for %s: %w", m.name(), err)
	}
	if conv.res.Devices != nil {
		return errors.New("device rules cannot be updated: they are fixed when the container starts")
	}
	if m.h.mode == modeV2 {
		m.need = conv.need
		if err := m.checkDelegated(m.paths[""]); err != nil {
			return err
		}
	} else {
		for _, c := range conv.need {
			if _, ok := m.paths[c]; !ok {
				return fmt.Errorf("cgroup %s has no %s hierarchy: the container was started without %s limits, which cannot be added later", m.name(), c, c)
			}
		}
	}
	if err := m.lib.Set(conv.res); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", m.name(), err)
	}
	return nil
}

// Signal sends sig to every process of the cgroup (runc's `kill --all`).
// The cgroup is frozen meanwhile so no fork escapes the list, and left as
// it was, except that SIGKILL thaws: a frozen process never dies.
func (m *Manager) Signal(sig syscall.Signal) error {
	was, err := m.Frozen()
	if err != nil {
		return err
	}
	frozen := was || m.Freeze() == nil
	pids, err := m.Pids()
	if err == nil {
		for _, pid := range pids {
			if kerr := unix.Kill(pid, sig); kerr != nil && kerr != unix.ESRCH {
				err = fmt.Errorf("send %s to pid %d of cgroup %s: %w", unix.SignalName(sig), pid, m.name(), kerr)
				break
			}
		}
	}
	if frozen && (!was || sig == unix.SIGKILL) {
		if terr := m.Thaw(); terr != nil && err == nil {
			err = terr
		}
	}
	return err
}

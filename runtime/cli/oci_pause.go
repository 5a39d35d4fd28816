package cli

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/cgroup"
	"llcr/runtime/state"
)

// statusPaused is runc's status of a frozen container. The OCI spec has no
// such state, so like runc it is never stored: it is read from the freezer,
// which also keeps it right after a host-side thaw or freeze.
const statusPaused specs.ContainerState = "paused"

// refresh is st.Refresh plus the paused status of a running container.
func refresh(st *state.State) {
	st.Refresh()
	if st.Status != state.Running || len(st.Cgroup) == 0 {
		return
	}
	if cg, err := cgroup.Load(st.Cgroup); err == nil {
		if frozen, _ := cg.Frozen(); frozen {
			st.Status = statusPaused
		}
	}
}

// live loads the state of id, which must be running (or paused, or created
// when created is true), and its cgroup.
func live(g *Globals, id string, created bool) (*state.State, *cgroup.Manager, error) {
	if err := requireRoot(); err != nil {
		return nil, nil, err
	}
	st, err := loadState(g, id)
	if err != nil {
		return nil, nil, err
	}
	refresh(st)
	if st.Status != state.Running && st.Status != statusPaused && (!created || st.Status != state.Created) {
		return nil, nil, fmt.Errorf("container %s is not running (status %s)", id, st.Status)
	}
	if len(st.Cgroup) == 0 {
		return nil, nil, fmt.Errorf("container %s has no cgroup recorded", id)
	}
	cg, err := cgroup.Load(st.Cgroup)
	if err != nil {
		return nil, nil, fmt.Errorf("load cgroup of %s: %w", id, err)
	}
	return st, cg, nil
}

// PauseCmd is runc's `pause`: freeze every process of the container.
type PauseCmd struct {
	ID string `arg:"" help:"Container id."`
}

func (c *PauseCmd) Run(g *Globals) error {
	st, cg, err := live(g, c.ID, false)
	if err != nil {
		return err
	}
	if st.Status == statusPaused {
		return fmt.Errorf("container %s is already paused", c.ID)
	}
	if err := cg.Freeze(); err != nil {
		return fmt.Errorf("pause container %s: %w", c.ID, err)
	}
	return nil
}

// ResumeCmd is runc's `resume`: thaw a paused container.
type ResumeCmd struct {
	ID string `arg:"" help:"Container id."`
}

func (c *ResumeCmd) Run(g *Globals) error {
	st, cg, err := live(g, c.ID, false)
	if err != nil {
		return err
	}
	if st.Status != statusPaused {
		return fmt.Errorf("container %s is not paused (status %s)", c.ID, st.Status)
	}
	if err := cg.Thaw(); err != nil {
		return fmt.Errorf("resume container %s: %w", c.ID, err)
	}
	return nil
}

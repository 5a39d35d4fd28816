package cli

import (
	"fmt"

	"llcr/runtime/launch"
	"llcr/runtime/spec"
	"llcr/runtime/state"
)

// StartCmd is runc's `start`: it lets a created container exec its process.
type StartCmd struct {
	ID string `arg:"" help:"Container id."`
}

func (c *StartCmd) Run(g *Globals) error {
	if err := requireRoot(); err != nil {
		return err
	}
	if err := spec.ValidateID(c.ID); err != nil {
		return err
	}
	store := g.store()
	st, err := release(store, c.ID)
	if err != nil {
		return err
	}
	debugf("started %s: pid %d", c.ID, st.Pid)
	if s, err := readSpec(store.Dir(c.ID)); err == nil {
		poststart(c.ID, st.Bundle, s, st.Pid)
	}
	return nil
}

// release starts a created container and records it running. The lock is
// held until then: the monitor records the exit under the same lock, so a
// process that exits at once still ends up stopped, not running.
func release(store state.Store, id string) (*state.State, error) {
	unlock, err := store.Lock(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := store.Load(id)
	if err != nil {
		return nil, err
	}
	st.Refresh()
	if st.Status != state.Created {
		return nil, fmt.Errorf("container %s is %s: only a created container can be started", id, st.Status)
	}
	dir := store.Dir(id)
	if err := launch.Release(dir, st.Pid, st.PidStart); err != nil {
		return nil, fmt.Errorf("start container %s: %w", id, err)
	}
	st.Status = state.Running
	return st, state.Write(dir, st)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"llcr/runtime/network"
	"llcr/runtime/state"
)

// GCCmd is `container gc`: it clears what crashed runtimes left.
//
// An orphan is a container whose holder (the foreground runtime or the -d
// monitor) died: nobody will wait for it or tear it down. gc kills it,
// removes its cgroup and network, and then removes its state directory if
// it was a foreground container (nobody can ask for its exit any more) or
// marks a detached one stopped (`container delete` removes it, as for any
// stopped container). Orphans are found in the --root store, in the
// default store, and through the network owner records (which name the
// state directory, whatever --root the container was started with).
//
// Then CNI is cleaned: DEL for every cached attachment whose owner is gone
// and CNI GC on every network with the live attachments as the valid set.
type GCCmd struct {
	ConfigDir string `name:"network-config-dir" help:"Directory of CNI network configs to GC (default: /etc/llcr/net.d, then /etc/cni/net.d)."`
}

func (c *GCCmd) Run(g *Globals) error {
	if err := requireRoot(); err != nil {
		return err
	}
	ctx := context.Background()
	var errs []error
	for _, cand := range gcCandidates(g) {
		reaped, err := reapOrphan(ctx, cand.id, cand.dir, cand.owner)
		if err != nil {
			errs = append(errs, err)
		}
		if reaped {
			fmt.Printf("container %s: reaped\n", cand.id)
		}
	}
	rep, err := network.GC(ctx, c.ConfigDir)
	for _, id := range rep.Reaped {
		fmt.Printf("container %s: network torn down\n", id)
	}
	return errors.Join(append(errs, err)...)
}

type gcCandidate struct {
	id, dir string
	owner   *network.Owner
}

// gcCandidates are the containers of the --root and default stores plus
// those named by network owner records, once each (by state directory).
func gcCandidates(g *Globals) []gcCandidate {
	byDir := map[string]*gcCandidate{}
	for _, root := range []string{g.Root, state.DefaultRoot} {
		store := state.Store{Root: root}
		ids, _ := store.IDs()
		for _, id := range ids {
			if notContainer(store, id) {
				continue
			}
			dir := filepath.Clean(store.Dir(id))
			byDir[dir] = &gcCandidate{id: id, dir: dir}
		}
	}
	for _, o := range network.Owners() {
		if o.StateDir == "" {
			continue
		}
		o := o
		dir := filepath.Clean(o.StateDir)
		if c, ok := byDir[dir]; ok {
			c.owner = &o
		} else {
			byDir[dir] = &gcCandidate{id: o.ID, dir: dir, owner: &o}
		}
	}
	out := make([]gcCandidate, 0, len(byDir))
	for _, c := range byDir {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out
}

// reapOrphan reaps the container in dir if its holder is dead. Without
// state.json it acts only on an owner record whose holder is dead (a start
// killed midway): a directory without either may be a start in progress.
func reapOrphan(ctx context.Context, id, dir string, o *network.Owner) (bool, error) {
	store := state.Store{Root: filepath.Dir(dir)}
	unlock, err := store.Lock(id)
	if err != nil {
		return false, nil // gone meanwhile
	}
	defer unlock()
	st, err := state.Read(dir)
	if err != nil {
		if o == nil || o.HolderAlive {
			return false, nil
		}
		var errs []error
		if o.Pid > 0 {
			errs = append(errs, killPid(id, o.Pid, o.PidStart))
		}
		errs = append(errs, removeCgroup(id, nil, dir), network.Reap(ctx, id), store.Remove(id))
		return true, errors.Join(errs...)
	}
	if st.Monitor == 0 || state.Alive(st.Monitor, st.MonitorStart) {
		// Stopped properly, or someone still waits for it.
		return false, nil
	}
	wasAlive := state.Alive(st.Pid, st.PidStart)
	errs := []error{killPid(id, st.Pid, st.PidStart), removeCgroup(id, st.Cgroup, dir), network.Reap(ctx, id)}
	if !st.Detached {
		errs = append(errs, store.Remove(id))
		return true, errors.Join(errs...)
	}
	st.Status = state.Stopped
	st.Monitor, st.MonitorStart = 0, 0
	st.Finished = nowUTC()
	st.ExitMessage = "its monitor died; killed and cleaned up by container gc"
	if wasAlive {
		code := 128 + int(unix.SIGKILL)
		st.ExitCode = &code
	}
	errs = append(errs, state.Write(dir, st))
	return true, errors.Join(errs...)
}

// killPid SIGKILLs pid if it still is the process that started at start,
// and waits for it to die.
func killPid(id string, pid int, start uint64) error {
	if !state.Alive(pid, start) {
		return nil
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill container %s (pid %d): %w", id, pid, err)
	}
	if !waitGone(pid, start, 10*time.Second) {
		return fmt.Errorf("container %s (pid %d) did not die after SIGKILL", id, pid)
	}
	return nil
}

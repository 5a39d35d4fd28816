package cli

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/bundle"
	"llcr/runtime/state"
)

// hookState is the spec's state document given to hooks on stdin.
func hookState(id, bundleDir string, s *specs.Spec, status specs.ContainerState, pid int) specs.State {
	return specs.State{Version: specs.Version, ID: id, Status: status, Pid: pid,
		Bundle: bundleDir, Annotations: s.Annotations}
}

// runtimeHooks is launch's CreateRuntime callback when the spec has
// prestart or createRuntime hooks (nil otherwise, so the init does not
// stop for nothing). Their failure aborts the start, per the spec.
func runtimeHooks(id, bundleDir string, s *specs.Spec) func(pid int) error {
	if len(bundle.Hooks(s, bundle.Prestart)) == 0 && len(bundle.Hooks(s, bundle.CreateRuntime)) == 0 {
		return nil
	}
	return func(pid int) error {
		st := hookState(id, bundleDir, s, specs.StateCreating, pid)
		if err := bundle.RunHooks(s, bundle.Prestart, st); err != nil {
			return err
		}
		return bundle.RunHooks(s, bundle.CreateRuntime, st)
	}
}

// poststart runs after the user's process started; a failure only warns.
func poststart(id, bundleDir string, s *specs.Spec, pid int) {
	if err := bundle.RunHooks(s, bundle.Poststart, hookState(id, bundleDir, s, specs.StateRunning, pid)); err != nil {
		warnf("%v", err)
	}
}

// poststop runs once the container is deleted; a failure only warns.
func poststop(id, bundleDir string, s *specs.Spec) {
	if err := bundle.RunHooks(s, bundle.Poststop, hookState(id, bundleDir, s, specs.StateStopped, 0)); err != nil {
		warnf("%v", err)
	}
}

// poststopAfterDelete prepares the poststop hooks of a container `delete`
// is about to remove, while its spec and state are still on disk; the
// returned function runs them once the delete succeeded. Seed containers
// have no hooks, so for them this reads two small files and does nothing.
func poststopAfterDelete(store state.Store, id string) func() {
	dir := store.Dir(id)
	s, err := readSpec(dir)
	if err != nil || len(bundle.Hooks(s, bundle.Poststop)) == 0 {
		return func() {}
	}
	st, err := store.Load(id)
	if err != nil {
		return func() {}
	}
	return func() { poststop(id, st.Bundle, s) }
}

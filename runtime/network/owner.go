package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"llcr/runtime/netns"
	"llcr/runtime/state"
)

// owner is written next to a container's netns pin: who holds the network,
// so that a later runtime (any --root) can tell a live attachment from one a
// crashed runtime left.
type owner struct {
	StateDir string `json:"stateDir"`
	// Holder is the process that set the network up and tears it down (the
	// foreground runtime or the -d monitor); the container dies with it.
	Holder      int    `json:"holder"`
	HolderStart uint64 `json:"holderStart"`
	// Pid is the container's init, once it exists.
	Pid      int    `json:"pid,omitempty"`
	PidStart uint64 `json:"pidStart,omitempty"`
}

func ownerPath(id string) string { return netns.Path(id) + ".owner" }

func writeOwner(id string, o owner) error {
	b, _ := json.Marshal(o)
	if err := os.MkdirAll(netns.Dir, 0o755); err != nil {
		return fmt.Errorf("record network owner of %s: %w", id, err)
	}
	tmp := ownerPath(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("record network owner of %s: %w", id, err)
	}
	if err := os.Rename(tmp, ownerPath(id)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record network owner of %s: %w", id, err)
	}
	return nil
}

func readOwner(id string) (owner, bool) {
	var o owner
	b, err := os.ReadFile(ownerPath(id))
	if err != nil {
		return o, false
	}
	return o, json.Unmarshal(b, &o) == nil
}

func removeOwner(id string) error {
	if err := os.Remove(ownerPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove network owner record of %s: %w", id, err)
	}
	return nil
}

// alive: the holder still runs, or the container does (the holder may have
// died in the instant before its container).
func (o owner) alive() bool {
	return state.Alive(o.Holder, o.HolderStart) || (o.Pid > 0 && state.Alive(o.Pid, o.PidStart))
}

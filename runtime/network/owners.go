package network

import (
	"os"
	"sort"
	"strings"

	"llcr/runtime/netns"
	"llcr/runtime/state"
)

// Owner is what `container gc` needs to know about a networked container
// from its owner record, whatever --root it was started with.
type Owner struct {
	ID       string
	StateDir string
	// HolderAlive: the runtime or monitor that set the network up still
	// runs, so it will tear the container down itself.
	HolderAlive bool
	// Pid is the container's init (0 before the start finished) and
	// PidStart its start time, to tell it from a recycled pid.
	Pid      int
	PidStart uint64
}

// Owners lists the owner records in netns.Dir, sorted by id.
func Owners() []Owner {
	ents, _ := os.ReadDir(netns.Dir)
	var out []Owner
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".owner")
		if !ok {
			continue
		}
		o, ok := readOwner(id)
		if !ok {
			continue
		}
		out = append(out, Owner{
			ID: id, StateDir: o.StateDir,
			HolderAlive: state.Alive(o.Holder, o.HolderStart),
			Pid:         o.Pid, PidStart: o.PidStart,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

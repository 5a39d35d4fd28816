package cli

import (
	"encoding/json"
	"fmt"
	"llcr/runtime/launch"
	"os"
	"time"

	"llcr/runtime/cgroup"
	"llcr/runtime/state"
)

// EventsCmd is runc's `events`: the container's stats every interval, and
// an "oom" event whenever its OOM kill count rises, until it stops.
type EventsCmd struct {
	Stats    bool          `help:"Print the stats once and exit."`
	Interval time.Duration `default:"5s" help:"Time between stats events."`
	ID       string        `arg:"" help:"Container id."`
}

// event is one JSON line, as runc prints it.
type event struct {
	Type string        `json:"type"`
	ID   string        `json:"id"`
	Data *cgroup.Stats `json:"data,omitempty"`
}

// oomPoll is how often the stream looks for OOM kills and the end of the
// container between stats: an interval of minutes must not hide them.
const oomPoll = 200 * time.Millisecond

func (c *EventsCmd) Run(g *Globals) error {
	if c.Interval <= 0 {
		return fmt.Errorf("--interval %s: must be more than zero", c.Interval)
	}
	st, cg, err := live(g, c.ID, true)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	emitStats := func() error {
		s, err := cg.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(event{Type: "stats", ID: c.ID, Data: s})
	}
	if c.Stats {
		return emitStats()
	}
	ooms, _ := cg.OOMKills()
	next := time.Now()
	// The container lives while its init does or its cgroup still holds a
	// process: the cgroup is the ground truth, a /proc read can miss.
	alive := func() bool {
		if state.Alive(st.Pid, st.PidStart) {
			return true
		}
		pids, err := cg.Pids()
		return err == nil && len(pids) > 0
	}
	for alive() {
		if n, err := cg.OOMKills(); err == nil && n > ooms {
			ooms = n
			if err := enc.Encode(event{Type: "oom", ID: c.ID}); err != nil {
				return err
			}
		}
		if !time.Now().Before(next) {
			next = time.Now().Add(c.Interval)
			if err := emitStats(); err != nil {
				if !alive() {
					// The cgroup went with the container.
					return nil
				}
				return err
			}
		}
		time.Sleep(min(oomPoll, time.Until(next)))
	}
	// An OOM kill of the init itself ends the loop before the next poll,
	// and the monitor may have removed the cgroup already: the exit it
	// records says so too.
	if n, err := cg.OOMKills(); err == nil && n > ooms || oomEnded(g, c.ID) {
		return enc.Encode(event{Type: "oom", ID: c.ID})
	}
	return nil
}

// oomEnded waits (briefly) for the monitor to record the container's end and
// reports whether it was an OOM kill.
func oomEnded(g *Globals, id string) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := g.store().Load(id)
		if err != nil {
			return false
		}
		if st.ExitCode != nil {
			return launch.IsOOMMessage(st.ExitMessage)
		}
	}
	return false
}

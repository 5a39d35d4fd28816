package cli

import (
	"encoding/json"
	"fmt"
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
	for state.Alive(st.Pid, st.PidStart) {
		if n, err := cg.OOMKills(); err == nil && n > ooms {
			ooms = n
			if err := enc.Encode(event{Type: "oom", ID: c.ID}); err != nil {
				return err
			}
		}
		if !time.Now().Before(next) {
			next = time.Now().Add(c.Interval)
			if err := emitStats(); err != nil {
				if !state.Alive(st.Pid, st.PidStart) {
					// The cgroup went with the container.
					return nil
				}
				return err
			}
		}
		time.Sleep(min(oomPoll, time.Until(next)))
	}
	return nil
}

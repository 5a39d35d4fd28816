package cli

import (
	"encoding/json"
	"os"

	"llcr/runtime/netns"
	"llcr/runtime/network"
	"llcr/runtime/state"
)

// InspectCmd is `container inspect ID...`: the state with the networks
// spelled out (each attachment's interface, IPs, MAC, gateways, ports).
type InspectCmd struct {
	IDs []string `arg:"" help:"Container ids."`
}

type inspectInfo struct {
	state.State
	Pid      int                  `json:"pid"`
	Networks []network.Attachment `json:"networks"`
	NetNS    string               `json:"netns,omitempty"`
}

func (c *InspectCmd) Run(g *Globals) error {
	var out []inspectInfo
	for _, id := range c.IDs {
		st, err := loadState(g, id)
		if err != nil {
			return err
		}
		refresh(st)
		info := inspectInfo{State: *st, Pid: st.Pid, Networks: attachments(st)}
		if st.Status == state.Stopped {
			info.Pid = 0
		} else if len(info.Networks) > 0 && network.Pinned(id) {
			info.NetNS = netns.Path(id)
		}
		out = append(out, info)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// attachments decodes state.json's networks; never nil, so JSON shows [].
func attachments(st *state.State) []network.Attachment {
	out := []network.Attachment{}
	if len(st.Networks) > 0 {
		json.Unmarshal(st.Networks, &out)
	}
	return out
}

package network

import (
	"encoding/json"

	"github.com/containernetworking/cni/libcni"

	"llcr/netconf"
)

// withoutIdlePortmap drops portmap from network n for an attachment that
// publishes no ports. portmap then has nothing to do, yet on ADD and on DEL
// it still starts iptables to probe the host (four processes, about a fifth
// of a networked start). The cached config is the filtered one, so DEL runs
// exactly what ADD ran. A list that cannot be rewritten is used as it is.
func withoutIdlePortmap(n *netconf.Network) *netconf.Network {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(n.List.Bytes, &raw); err != nil {
		return n
	}
	var plugins []json.RawMessage
	if err := json.Unmarshal(raw["plugins"], &plugins); err != nil {
		return n
	}
	kept := plugins[:0:0]
	for _, p := range plugins {
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(p, &t) == nil && t.Type == "portmap" {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == len(plugins) || len(kept) == 0 {
		return n
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return n
	}
	raw["plugins"] = b
	all, err := json.Marshal(raw)
	if err != nil {
		return n
	}
	list, err := libcni.NetworkConfFromBytes(all)
	if err != nil {
		return n
	}
	out := *n
	out.List = list
	return &out
}

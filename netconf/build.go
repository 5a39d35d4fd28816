package netconf

import (
	"encoding/json"
	"net/netip"
)

// The types below fix the field order of the conflists Create writes, so
// the files read like the embedded default.

type confList struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []any  `json:"plugins"`
}

type mainPlugin struct {
	Type         string          `json:"type"`
	Bridge       string          `json:"bridge"`
	IsGateway    bool            `json:"isGateway"`
	IPMasq       bool            `json:"ipMasq"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
	IPAM         hostLocal       `json:"ipam"`
}

type hostLocal struct {
	Type   string        `json:"type"`
	Ranges [][]ipRange   `json:"ranges"`
	Routes []routeConfig `json:"routes"`
}

type ipRange struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway,omitempty"`
}

type routeConfig struct {
	Dst string `json:"dst"`
}

type portmapPlugin struct {
	Type         string          `json:"type"`
	Capabilities map[string]bool `json:"capabilities"`
	SNAT         bool            `json:"snat"`
}

// netSpec is a validated CreateOptions.
type netSpec struct {
	name, plugin, bridge string
	subnet               netip.Prefix
	gateway              netip.Addr // zero: host-local picks the first address
	subnet6              netip.Prefix
}

// buildConflist renders the same shape as the default network: the main
// plugin on a bridge with host-local IPAM (a second range set for IPv6 when
// asked), followed by portmap for published ports.
func buildConflist(s netSpec) ([]byte, error) {
	r4 := ipRange{Subnet: s.subnet.String()}
	if s.gateway.IsValid() {
		r4.Gateway = s.gateway.String()
	}
	ipam := hostLocal{
		Type:   "host-local",
		Ranges: [][]ipRange{{r4}},
		Routes: []routeConfig{{Dst: "0.0.0.0/0"}},
	}
	if s.subnet6.IsValid() {
		ipam.Ranges = append(ipam.Ranges, []ipRange{{Subnet: s.subnet6.String()}})
		ipam.Routes = append(ipam.Routes, routeConfig{Dst: "::/0"})
	}
	list := confList{
		CNIVersion: "1.1.0",
		Name:       s.name,
		Plugins: []any{
			mainPlugin{
				Type:         s.plugin,
				Bridge:       s.bridge,
				IsGateway:    true,
				IPMasq:       true,
				Capabilities: map[string]bool{"ips": true, "mac": true},
				IPAM:         ipam,
			},
			portmapPlugin{
				Type:         "portmap",
				Capabilities: map[string]bool{"portMappings": true},
				SNAT:         true,
			},
		},
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

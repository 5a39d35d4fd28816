// Package netconf finds, validates and writes the CNI network configuration
// lists (conflists) that llcr attaches containers to. It knows nothing about
// running plugins; package llcr/cni does that.
package netconf

import (
	"encoding/json"
	"net/netip"
	"slices"

	"github.com/containernetworking/cni/libcni"
)

// Network is one CNI network: a conflist and where it came from.
type Network struct {
	Name string
	// File is the path the network was loaded from; empty for a network
	// parsed from bytes that never lived in a file.
	File string
	List *libcni.NetworkConfigList
}

// ipamSubnets is the part of a plugin's config that host-local style IPAM
// uses to say which addresses it hands out.
type ipamSubnets struct {
	IPAM struct {
		Subnet string `json:"subnet"`
		Ranges [][]struct {
			Subnet string `json:"subnet"`
		} `json:"ranges"`
	} `json:"ipam"`
}

// Subnets returns the subnets found in the network's IPAM config (host-local
// "ranges" and the legacy "subnet"), masked and without duplicates, for
// overlap checks and `network inspect`. Unparsable entries are skipped:
// Parse has already rejected them for networks loaded through this package.
func Subnets(n *Network) []netip.Prefix {
	if n == nil || n.List == nil {
		return nil
	}
	var out []netip.Prefix
	add := func(s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return
		}
		p = p.Masked()
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, pl := range n.List.Plugins {
		var c ipamSubnets
		if json.Unmarshal(pl.Bytes, &c) != nil {
			continue
		}
		if c.IPAM.Subnet != "" {
			add(c.IPAM.Subnet)
		}
		for _, set := range c.IPAM.Ranges {
			for _, r := range set {
				add(r.Subnet)
			}
		}
	}
	return out
}

// bridgeName returns the "bridge" field of the network's first plugin that
// has one, so Create can refuse to put two networks on one bridge.
func bridgeName(n *Network) string {
	if n == nil || n.List == nil {
		return ""
	}
	for _, pl := range n.List.Plugins {
		var c struct {
			Bridge string `json:"bridge"`
		}
		if json.Unmarshal(pl.Bytes, &c) == nil && c.Bridge != "" {
			return c.Bridge
		}
	}
	return ""
}

// Bridge is the bridge the network's main plugin attaches containers to
// ("" when none is named), for `network inspect` and `network rm`.
func Bridge(n *Network) string { return bridgeName(n) }

// Gateways returns the explicit gateways of the network's IPAM ranges.
func Gateways(n *Network) []netip.Addr {
	if n == nil || n.List == nil {
		return nil
	}
	var out []netip.Addr
	for _, pl := range n.List.Plugins {
		var c struct {
			IPAM struct {
				Ranges [][]struct {
					Gateway string `json:"gateway"`
				} `json:"ranges"`
			} `json:"ipam"`
		}
		if json.Unmarshal(pl.Bytes, &c) != nil {
			continue
		}
		for _, set := range c.IPAM.Ranges {
			for _, r := range set {
				if a, err := netip.ParseAddr(r.Gateway); err == nil && !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

package veth

import (
	"fmt"
	"net"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ip"
)

// addrPlan is one IPAM address and what the plugin derives from it.
type addrPlan struct {
	// ipc is the address as configured on the container and reported in
	// the result; in routed mode its mask is narrowed to a host prefix.
	ipc *current.IPConfig
	// subnet is the IPAM range the address came from: the prefix of the
	// bridge's gateway address and the masquerade exemption.
	subnet *net.IPNet
	v6     bool
}

// plan is the full addressing of one attachment, computed before anything
// is touched so that ADD fails early on an unusable IPAM answer.
type plan struct {
	addrs  []addrPlan
	routes []*types.Route
	// onlink marks the container's gateway routes as on-link: in routed mode
	// the container's addresses are host prefixes, so no gateway is inside
	// a connected subnet.
	onlink bool
	v4, v6 bool
}

func newPlan(conf *NetConf, res *current.Result) (*plan, error) {
	if len(res.IPs) == 0 {
		return nil, fmt.Errorf("IPAM plugin %s returned no addresses", conf.IPAM.Type)
	}
	p := &plan{onlink: conf.Mode == ModeRouted}
	var gw4, gw6 net.IP
	for _, ipc := range res.IPs {
		a := addrPlan{ipc: ipc, v6: ipc.Address.IP.To4() == nil}
		a.subnet = &net.IPNet{IP: ipc.Address.IP.Mask(ipc.Address.Mask), Mask: ipc.Address.Mask}
		if ipc.Gateway == nil && conf.gateway() {
			// IPAM plugins may leave the gateway to us; the first address of
			// the subnet is the convention host-local uses too.
			ipc.Gateway = ip.NextIP(a.subnet.IP)
		}
		if ipc.Gateway != nil && ipc.Gateway.Equal(ipc.Address.IP) {
			return nil, fmt.Errorf("IPAM plugin %s assigned %s, which is the gateway address", conf.IPAM.Type, ipc.Address.IP)
		}
		if conf.Mode == ModeRouted {
			bits := 32
			if a.v6 {
				bits = 128
			}
			ipc.Address.Mask = net.CIDRMask(bits, bits)
		}
		if a.v6 {
			p.v6 = true
			if gw6 == nil {
				gw6 = ipc.Gateway
			}
		} else {
			p.v4 = true
			if gw4 == nil {
				gw4 = ipc.Gateway
			}
		}
		p.addrs = append(p.addrs, a)
	}

	var have4, have6 bool
	for _, r := range res.Routes {
		r := *r
		v6 := r.Dst.IP.To4() == nil
		if r.GW == nil {
			if v6 {
				r.GW = gw6
			} else {
				r.GW = gw4
			}
		}
		if ones, _ := r.Dst.Mask.Size(); ones == 0 {
			if v6 {
				have6 = true
			} else {
				have4 = true
			}
		}
		p.routes = append(p.routes, &r)
	}
	// The default route via our gateway is what makes the gateway useful;
	// add it unless IPAM already asked for one.
	if conf.gateway() {
		if gw4 != nil && !have4 {
			p.routes = append(p.routes, &types.Route{Dst: net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, GW: gw4})
		}
		if gw6 != nil && !have6 {
			p.routes = append(p.routes, &types.Route{Dst: net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}, GW: gw6})
		}
	}
	return p, nil
}

// gatewayAddr is the address the host side carries for a: the gateway with
// the subnet's prefix on a bridge, or a host prefix on a routed veth, where
// the same gateway is shared by every container's link.
func (a addrPlan) gatewayAddr(routed bool) *net.IPNet {
	mask := a.subnet.Mask
	if routed {
		bits := 32
		if a.v6 {
			bits = 128
		}
		mask = net.CIDRMask(bits, bits)
	}
	return &net.IPNet{IP: a.ipc.Gateway, Mask: mask}
}

// hostPrefix is a's address as a /32 or /128.
func (a addrPlan) hostPrefix() *net.IPNet {
	bits := 32
	if a.v6 {
		bits = 128
	}
	return &net.IPNet{IP: a.ipc.Address.IP, Mask: net.CIDRMask(bits, bits)}
}

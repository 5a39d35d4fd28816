package netconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// candidateBases are the /16s automatic subnets come from, in order. 10.89
// is what podman uses for its networks, so a host that runs both sees the
// familiar range; 172.30 is the fallback when all 256 /24s of 10.89 clash.
var candidateBases = []netip.Addr{
	netip.AddrFrom4([4]byte{10, 89, 0, 0}),
	netip.AddrFrom4([4]byte{172, 30, 0, 0}),
}

// ChooseSubnet returns the first of 10.89.0.0/24 … 10.89.255.0/24, then
// 172.30.0.0/24 … 172.30.255.0/24, that overlaps nothing in avoid.
func ChooseSubnet(avoid []netip.Prefix) (netip.Prefix, error) {
	for _, base := range candidateBases {
		b := base.As4()
		for i := 0; i < 256; i++ {
			c := netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], byte(i), 0}), 24)
			if !overlapsAny(c, avoid) {
				return c, nil
			}
		}
	}
	return netip.Prefix{}, errors.New("no free subnet: every /24 of 10.89.0.0/16 and 172.30.0.0/16 overlaps a host route or another network; pass --subnet")
}

func overlapsAny(p netip.Prefix, avoid []netip.Prefix) bool {
	for _, a := range avoid {
		if a.IsValid() && p.Overlaps(a) {
			return true
		}
	}
	return false
}

// hostRoutes is what the default network's subnet must avoid; tests replace
// it so the chosen subnet does not depend on the machine running them.
var hostRoutes = HostRoutes

// HostRoutes returns the destinations of the host's IPv4 and IPv6 routes and
// the subnets of its interface addresses, without the default routes: a
// container subnet that overlaps any of them would shadow or be shadowed by
// a network the host already reaches.
func HostRoutes() ([]netip.Prefix, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list host routes: %w", err)
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list host addresses: %w", err)
	}
	var out []netip.Prefix
	for _, r := range routes {
		if p, ok := prefixOf(r.Dst); ok && p.Bits() != 0 {
			out = append(out, p)
		}
	}
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet); ok && p.Bits() != 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false // netlink's way of saying "default route"
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones).Masked(), true
}

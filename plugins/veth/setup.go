package veth

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// checkNoContainerLink fails ADD before anything is allocated when the
// container already has an interface by that name: the kernel's EEXIST from
// the veth creation would not say which end clashed.
func checkNoContainerLink(netns ns.NetNS, ifName string) error {
	return netns.Do(func(ns.NetNS) error {
		l, err := linkByName(ifName)
		if err != nil {
			return err
		}
		if l != nil {
			return fmt.Errorf("interface %s already exists in %s", ifName, netns.Path())
		}
		return nil
	})
}

// configureContainer addresses the container end, brings it up and adds its
// routes; it returns the end's MAC address for the result. p.routes is cut
// to the routes actually added, which the result reports.
func configureContainer(netns ns.NetNS, ifName string, p *plan) (string, error) {
	var mac string
	var added []*types.Route
	err := netns.Do(func(ns.NetNS) error {
		link, err := netlinksafe.LinkByName(ifName)
		if err != nil {
			return fmt.Errorf("look up %s: %w", ifName, err)
		}
		mac = link.Attrs().HardwareAddr.String()
		// Must precede the addresses: DAD starts when they are added.
		if p.v6 {
			if err := prepareIPv6(ifName); err != nil {
				return err
			}
		}
		for _, a := range p.addrs {
			if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: &a.ipc.Address}); err != nil {
				return fmt.Errorf("add address %s to %s: %w", a.ipc.Address.String(), ifName, err)
			}
		}
		if err := netlink.LinkSetUp(link); err != nil {
			return fmt.Errorf("set %s up: %w", ifName, err)
		}
		for _, r := range p.routes {
			route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: &r.Dst, Gw: r.GW}
			if r.GW == nil {
				route.Scope = netlink.SCOPE_LINK
			} else if p.onlink {
				route.Flags = int(netlink.FLAG_ONLINK)
			}
			if err := netlink.RouteAdd(route); err != nil {
				if errors.Is(err, unix.EEXIST) && isZeroNet(&r.Dst) {
					// A second network's default route: the first
					// attachment (eth0) keeps the default, as with docker.
					continue
				}
				return fmt.Errorf("add route %s via %s dev %s: %w", r.Dst.String(), r.GW, ifName, err)
			}
			added = append(added, r)
		}
		return nil
	})
	p.routes = added
	return mac, err
}

// setupBridge finds or creates the bridge and, when it is the gateway, gives
// it each subnet's gateway address. Both are shared by every container of
// the network, hence the lock.
func setupBridge(conf *NetConf, p *plan) (*netlink.Bridge, error) {
	var br *netlink.Bridge
	err := withLock("bridge-"+conf.Bridge, func() error {
		var err error
		if br, err = ensureBridge(conf.Bridge, p.v6); err != nil {
			return err
		}
		if err := ensureBridgeGroup(br); err != nil {
			return err
		}
		if !conf.gateway() {
			return nil
		}
		for _, a := range p.addrs {
			if err := ensureAddr(br, &netlink.Addr{IPNet: a.gatewayAddr(false)}); err != nil {
				return err
			}
		}
		return nil
	})
	return br, err
}

// setupRoutedHost makes the host end, created down, the container's
// gateway: it carries the gateway as a host address (shared with the other
// containers' links, hence no prefix route), answers ARP for it and for
// other addresses by proxy, and holds the host route back to the container.
// DAD is turned off before the link comes up for the reason given at
// ensureBridge: the host end's link-local address is the source of the
// host's neighbour solicitations towards the container.
func setupRoutedHost(host netlink.Link, p *plan) error {
	name := host.Attrs().Name
	if p.v4 {
		if err := setSysctl("ipv4/conf/"+name+"/proxy_arp", "1"); err != nil {
			return err
		}
	}
	if p.v6 {
		if err := prepareIPv6(name); err != nil {
			return err
		}
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	for _, a := range p.addrs {
		gw := &netlink.Addr{IPNet: a.gatewayAddr(true), Flags: unix.IFA_F_NOPREFIXROUTE}
		if err := ensureAddr(host, gw); err != nil {
			return err
		}
		route := &netlink.Route{LinkIndex: host.Attrs().Index, Dst: a.hostPrefix(), Scope: netlink.SCOPE_LINK}
		if !a.v6 {
			// Replies from the host to the container then come from the
			// gateway, the one host address the container knows is on-link.
			route.Src = a.ipc.Gateway
		} else {
			route.Scope = netlink.SCOPE_UNIVERSE
		}
		if err := netlink.RouteAdd(route); err != nil {
			return fmt.Errorf("add host route %s dev %s: %w", route.Dst, name, err)
		}
	}
	return nil
}

// setHairpin lets a container reach itself through the bridge, e.g. via its
// own published port.
func setHairpin(host netlink.Link) error {
	if err := netlink.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("enable hairpin on %s: %w", host.Attrs().Name, err)
	}
	return nil
}

package veth

import (
	"fmt"
	"net"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ipam"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// CmdCheck implements CNI CHECK: the attachment must still look the way
// ADD left it, as recorded in prevResult.
func CmdCheck(args *skel.CmdArgs) error {
	conf, err := LoadConf(args.StdinData)
	if err != nil {
		return err
	}
	if conf.RawPrevResult == nil {
		return fmt.Errorf("CHECK needs prevResult in the network config")
	}
	if err := version.ParsePrevResult(&conf.PluginConf); err != nil {
		return fmt.Errorf("parse prevResult: %w", err)
	}
	prev, err := current.NewResultFromResult(conf.PrevResult)
	if err != nil {
		return fmt.Errorf("convert prevResult: %w", err)
	}
	tag, err := attachmentTag(conf.Name, args.ContainerID, args.IfName)
	if err != nil {
		return err
	}

	contIdx := -1
	for i, intf := range prev.Interfaces {
		if intf.Name == args.IfName && intf.Sandbox == args.Netns {
			contIdx = i
		}
	}
	if contIdx < 0 {
		return fmt.Errorf("prevResult has no interface %s in sandbox %s", args.IfName, args.Netns)
	}
	var ips []*current.IPConfig
	for _, ipc := range prev.IPs {
		if ipc.Interface != nil && *ipc.Interface == contIdx {
			ips = append(ips, ipc)
		}
	}

	if err := ipam.ExecCheck(conf.IPAM.Type, args.StdinData); err != nil {
		return fmt.Errorf("IPAM plugin %s CHECK: %w", conf.IPAM.Type, err)
	}

	hostName := HostVethName(args.ContainerID, args.IfName)
	host, err := checkHostLink(conf, hostName, tag)
	if err != nil {
		return err
	}
	peerIdx, err := netlink.VethPeerIndex(host)
	if err != nil {
		return fmt.Errorf("get peer of %s: %w", hostName, err)
	}

	netns, err := ns.GetNS(args.Netns)
	if err != nil {
		return fmt.Errorf("open netns %q: %w", args.Netns, err)
	}
	defer netns.Close()
	err = netns.Do(func(ns.NetNS) error {
		return checkContainer(args.IfName, prev.Interfaces[contIdx].Mac, peerIdx, ips, prev.Routes)
	})
	if err != nil {
		return err
	}

	if conf.IPMasq {
		p := &plan{}
		for _, ipc := range ips {
			p.addrs = append(p.addrs, addrPlan{ipc: ipc, v6: ipc.Address.IP.To4() == nil})
		}
		if err := checkMasq(conf.Name, tag, p); err != nil {
			return err
		}
	}
	return nil
}

func checkHostLink(conf *NetConf, name, tag string) (*netlink.Veth, error) {
	l, err := linkByName(name)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, fmt.Errorf("host veth %s is missing", name)
	}
	veth, ok := l.(*netlink.Veth)
	if !ok {
		return nil, fmt.Errorf("host link %s is a %s, not a veth", name, l.Type())
	}
	if veth.Attrs().Alias != tag {
		return nil, fmt.Errorf("host veth %s has alias %q, want %q", name, veth.Attrs().Alias, tag)
	}
	if conf.Mode == ModeBridge {
		br, err := linkByName(conf.Bridge)
		if err != nil {
			return nil, err
		}
		if br == nil {
			return nil, fmt.Errorf("bridge %s is missing", conf.Bridge)
		}
		if veth.Attrs().MasterIndex != br.Attrs().Index {
			return nil, fmt.Errorf("host veth %s is not a port of bridge %s", name, conf.Bridge)
		}
	}
	return veth, nil
}

// checkContainer runs inside the container's netns.
func checkContainer(ifName, mac string, peerIdx int, ips []*current.IPConfig, routes []*types.Route) error {
	l, err := linkByName(ifName)
	if err != nil {
		return err
	}
	if l == nil {
		return fmt.Errorf("container interface %s is missing", ifName)
	}
	if l.Attrs().Index != peerIdx {
		return fmt.Errorf("container interface %s (index %d) is not the peer of the host veth (peer index %d)", ifName, l.Attrs().Index, peerIdx)
	}
	if mac != "" && l.Attrs().HardwareAddr.String() != mac {
		return fmt.Errorf("container interface %s has MAC %s, prevResult says %s", ifName, l.Attrs().HardwareAddr, mac)
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("container interface %s is down", ifName)
	}

	addrs, err := netlinksafe.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", ifName, err)
	}
	for _, ipc := range ips {
		found := false
		for _, a := range addrs {
			if a.IPNet.IP.Equal(ipc.Address.IP) && a.IPNet.Mask.String() == ipc.Address.Mask.String() {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("address %s is missing from container interface %s", ipc.Address.String(), ifName)
		}
	}

	for _, r := range routes {
		family := netlink.FAMILY_V4
		if r.Dst.IP.To4() == nil {
			family = netlink.FAMILY_V6
		}
		have, err := netlinksafe.RouteList(l, family)
		if err != nil {
			return fmt.Errorf("list routes of %s: %w", ifName, err)
		}
		if !hasRoute(have, r) {
			return fmt.Errorf("route %s via %v is missing from container interface %s", r.Dst.String(), r.GW, ifName)
		}
	}
	return nil
}

func hasRoute(have []netlink.Route, want *types.Route) bool {
	wantOnes, _ := want.Dst.Mask.Size()
	for _, r := range have {
		ones := 0
		if r.Dst != nil {
			ones, _ = r.Dst.Mask.Size()
			if !r.Dst.IP.Mask(r.Dst.Mask).Equal(want.Dst.IP.Mask(want.Dst.Mask)) {
				continue
			}
		}
		if ones != wantOnes {
			continue
		}
		if want.GW != nil && !want.GW.Equal(r.Gw) {
			continue
		}
		return true
	}
	return false
}

package veth

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ipam"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// undoStack collects the inverse of every step ADD has taken so a failure
// part-way leaves neither a leaked lease nor a half-built link behind.
type undoStack []func()

func (u *undoStack) push(f func()) { *u = append(*u, f) }

func (u undoStack) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// CmdAdd implements CNI ADD.
func CmdAdd(args *skel.CmdArgs) (err error) {
	conf, err := LoadConf(args.StdinData)
	if err != nil {
		return err
	}
	if args.ContainerID == "" || args.IfName == "" {
		return fmt.Errorf("ADD needs CNI_CONTAINERID and CNI_IFNAME")
	}
	tag, err := attachmentTag(conf.Name, args.ContainerID, args.IfName)
	if err != nil {
		return err
	}
	if err := validIfName(args.IfName); err != nil {
		return fmt.Errorf("CNI_IFNAME: %w", err)
	}
	netns, err := ns.GetNS(args.Netns)
	if err != nil {
		return fmt.Errorf("open netns %q: %w", args.Netns, err)
	}
	defer netns.Close()

	if err := checkNoContainerLink(netns, args.IfName); err != nil {
		return err
	}
	hostName := HostVethName(args.ContainerID, args.IfName)
	if l, err := linkByName(hostName); err != nil {
		return err
	} else if l != nil {
		return fmt.Errorf("host interface %s for container %s interface %s already exists (alias %q); DEL the old attachment first",
			hostName, args.ContainerID, args.IfName, l.Attrs().Alias)
	}
	mtu := conf.MTU
	if mtu == 0 {
		mtu = defaultRouteMTU()
	}

	var undo undoStack
	defer func() {
		if err != nil {
			undo.run()
		}
	}()

	ipamRes, err := ipam.ExecAdd(conf.IPAM.Type, args.StdinData)
	if err != nil {
		return ipamError(conf.IPAM.Type, "ADD", err)
	}
	undo.push(func() { _ = ipam.ExecDel(conf.IPAM.Type, args.StdinData) })
	result, err := current.NewResultFromResult(ipamRes)
	if err != nil {
		return fmt.Errorf("convert result of IPAM plugin %s: %w", conf.IPAM.Type, err)
	}
	p, err := newPlan(conf, result)
	if err != nil {
		return err
	}

	var ifaces []*current.Interface
	masterIndex := 0
	if conf.Mode == ModeBridge {
		br, err := setupBridge(conf, p)
		if err != nil {
			return err
		}
		masterIndex = br.Attrs().Index
		ifaces = append(ifaces, &current.Interface{Name: br.Attrs().Name, Mac: br.Attrs().HardwareAddr.String()})
	}

	host, err := createVeth(hostName, tag, args.IfName, conf.mac, mtu, masterIndex, conf.Mode != ModeRouted, netns)
	if err != nil {
		return err
	}
	// Deleting the host end also destroys the container end and every
	// address and route on either.
	undo.push(func() { _ = netlink.LinkDel(host) })
	ifaces = append(ifaces, &current.Interface{Name: hostName, Mac: host.Attrs().HardwareAddr.String()})

	contMac, err := configureContainer(netns, args.IfName, p)
	if err != nil {
		return err
	}
	contIdx := len(ifaces)
	ifaces = append(ifaces, &current.Interface{Name: args.IfName, Mac: contMac, Sandbox: args.Netns})

	switch {
	case conf.Mode == ModeRouted:
		err = setupRoutedHost(host, p)
	case conf.HairpinMode:
		err = setHairpin(host)
	}
	if err != nil {
		return err
	}
	// Pushed first: a failure after one family's rules went in must not
	// leave them behind. Only this attachment's tagged rules go.
	if conf.IPMasq {
		undo.push(func() {
			_ = teardownNetfilter(conf, args.StdinData, true, func(t string) bool { return t == tag })
		})
	}
	// Rules go in before forwarding is turned on, so a new network is never
	// routed to the others unfiltered.
	if err := setupNetfilter(conf, tag, p); err != nil {
		return err
	}
	if conf.gateway() {
		if err := enableForwarding(p.v4, p.v6); err != nil {
			return err
		}
	}

	result.Interfaces = ifaces
	for _, a := range p.addrs {
		a.ipc.Interface = current.Int(contIdx)
	}
	result.Routes = p.routes
	if !conf.DNS.IsEmpty() {
		result.DNS = conf.DNS
	}
	return types.PrintResult(result, conf.CNIVersion)
}

// ipamError names the IPAM plugin in its error. A CNI error keeps its code
// (runtimes tell "no addresses left" from a broken config by it), which a
// plain wrap would lose: skel reports only the innermost *types.Error.
func ipamError(plugin, op string, err error) error {
	var e *types.Error
	if errors.As(err, &e) {
		return types.NewError(e.Code, fmt.Sprintf("IPAM plugin %s %s: %s", plugin, op, e.Msg), e.Details)
	}
	return fmt.Errorf("IPAM plugin %s %s: %w", plugin, op, err)
}

package veth

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/plugins/pkg/ipam"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// CmdDel implements CNI DEL. Everything it removes may already be gone (a
// runtime may call DEL twice, after a failed ADD, or after the netns was
// destroyed), and absence is success. It needs no prevResult: the host
// veth's name and the rules' tags follow from the container ID and ifname.
func CmdDel(args *skel.CmdArgs) error {
	conf, err := LoadConf(args.StdinData)
	if err != nil {
		return err
	}
	tag, err := attachmentTag(conf.Name, args.ContainerID, args.IfName)
	if err != nil {
		return err
	}

	var errs []error
	if err := deleteContainerLink(args.Netns, args.IfName); err != nil {
		errs = append(errs, err)
	}
	// The host end is normally gone with the container end; this catches a
	// pair whose netns path was unmounted while the namespace lived on.
	if err := deleteOwnedLink(HostVethName(args.ContainerID, args.IfName), tag); err != nil {
		errs = append(errs, err)
	}
	if err := teardownNetfilter(conf, args.StdinData, conf.IPMasq, func(t string) bool { return t == tag }); err != nil {
		errs = append(errs, err)
	}
	// Release the lease last, so the address cannot be handed out again
	// while it is still configured somewhere.
	if err := ipam.ExecDel(conf.IPAM.Type, args.StdinData); err != nil {
		errs = append(errs, fmt.Errorf("IPAM plugin %s DEL: %w", conf.IPAM.Type, err))
	}
	return errors.Join(errs...)
}

func deleteContainerLink(netnsPath, ifName string) error {
	if netnsPath == "" {
		return nil
	}
	err := ns.WithNetNSPath(netnsPath, func(ns.NetNS) error {
		l, err := linkByName(ifName)
		if err != nil || l == nil {
			return err
		}
		// An interface of that name that is not a veth was made by someone
		// else (or the name was reused); it is not ours to delete.
		if _, ok := l.(*netlink.Veth); !ok {
			return nil
		}
		if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("delete %s in %s: %w", ifName, netnsPath, err)
		}
		return nil
	})
	var notExist ns.NSPathNotExistErr
	var notNS ns.NSPathNotNSErr
	if errors.As(err, &notExist) || errors.As(err, &notNS) {
		return nil
	}
	return err
}

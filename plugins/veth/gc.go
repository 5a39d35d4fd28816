package veth

import (
	"context"
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// CmdGC implements CNI GC: it removes this network's host veths and
// masquerade rules whose attachment is not in cni.dev/valid-attachments,
// then lets the IPAM plugin drop the matching leases. Only objects tagged
// by ADD for this network are candidates, so links and rules of other
// networks or other tools survive whatever their names.
func CmdGC(args *skel.CmdArgs) error {
	conf, err := LoadConf(args.StdinData)
	if err != nil {
		return err
	}
	valid := make(map[string]bool, len(conf.ValidAttachments))
	for _, a := range conf.ValidAttachments {
		valid[attachmentKey(a.ContainerID, a.IfName)] = true
	}
	stale := func(tag string) bool {
		key, ok := tagKey(tag, conf.Name)
		return ok && !valid[key]
	}

	var errs []error
	links, err := netlinksafe.LinkList()
	if err != nil {
		errs = append(errs, fmt.Errorf("list links: %w", err))
	}
	for _, l := range links {
		if _, ok := l.(*netlink.Veth); !ok || !stale(l.Attrs().Alias) {
			continue
		}
		if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("delete stale veth %s (%s): %w", l.Attrs().Name, l.Attrs().Alias, err))
		}
	}
	// Masquerade rules are swept even when ipMasq is now off: they may
	// predate the change.
	if err := teardownNetfilter(conf, args.StdinData, true, stale); err != nil {
		errs = append(errs, err)
	}
	if err := invoke.DelegateGC(context.TODO(), conf.IPAM.Type, args.StdinData, nil); err != nil {
		errs = append(errs, fmt.Errorf("IPAM plugin %s GC: %w", conf.IPAM.Type, err))
	}
	return errors.Join(errs...)
}

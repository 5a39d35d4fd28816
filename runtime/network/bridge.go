package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"

	"llcr/netconf"
)

// RemoveLeftovers removes what a removed network leaves on the host once no
// container uses it: its bridge (only one llcr-veth made, never the default
// network's, and only without ports) and host-local's empty lease
// directory. The masquerade chain goes with the last container already.
func RemoveLeftovers(n *netconf.Network) error {
	if n == nil || n.List == nil || len(n.List.Plugins) == 0 || n.List.Plugins[0].Network == nil {
		return nil
	}
	var errs []error
	main := n.List.Plugins[0].Network
	if br := netconf.Bridge(n); main.Type == "llcr-veth" && br != "" && br != netconf.DefaultBridge {
		errs = append(errs, removeIdleBridge(br))
	}
	if main.IPAM.Type == "host-local" {
		removeEmptyLeaseDir(filepath.Join("/var/lib/cni/networks", n.Name))
	}
	return errors.Join(errs...)
}

func removeIdleBridge(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil // gone already
	}
	if _, ok := l.(*netlink.Bridge); !ok {
		return nil
	}
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list links to see whether bridge %s is in use: %w", name, err)
	}
	for _, o := range links {
		if o.Attrs().MasterIndex == l.Attrs().Index {
			return nil // someone's port: keep it
		}
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}

// removeEmptyLeaseDir removes host-local's directory of a network when it
// holds no lease, only its lock and bookkeeping files.
func removeEmptyLeaseDir(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Name() != "lock" && !strings.HasPrefix(e.Name(), "last_reserved_ip") {
			return
		}
	}
	os.RemoveAll(dir)
}

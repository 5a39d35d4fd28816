package veth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// fallbackMTU is used when the host has no default route to copy from.
const fallbackMTU = 1500

// linkByName returns nil, nil when the link does not exist, so callers can
// treat absence as a state rather than an error.
func linkByName(name string) (netlink.Link, error) {
	l, err := netlinksafe.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, fmt.Errorf("look up link %s: %w", name, err)
	}
	return l, nil
}

// defaultRouteMTU is the MTU of the interface carrying the host's default
// route: containers get the largest MTU that survives the way out, without
// the operator having to know it.
func defaultRouteMTU() int {
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := netlinksafe.RouteList(nil, family)
		if err != nil {
			continue
		}
		for _, r := range routes {
			if r.LinkIndex == 0 || (r.Dst != nil && !isZeroNet(r.Dst)) {
				continue
			}
			l, err := netlink.LinkByIndex(r.LinkIndex)
			if err == nil && l.Attrs().MTU > 0 {
				return l.Attrs().MTU
			}
		}
	}
	return fallbackMTU
}

// randomMAC returns a unicast, locally administered address.
func randomMAC() (net.HardwareAddr, error) {
	mac := make(net.HardwareAddr, 6)
	if _, err := rand.Read(mac); err != nil {
		return nil, fmt.Errorf("generate MAC address: %w", err)
	}
	mac[0] = mac[0]&^0x01 | 0x02
	return mac, nil
}

func isZeroNet(n *net.IPNet) bool {
	ones, _ := n.Mask.Size()
	return ones == 0
}

// ensureBridge finds or creates the bridge and brings it up. The caller must
// hold the bridge's lock: two ADDs racing to create it would otherwise make
// one fail with EEXIST. With v6 the bridge's duplicate address detection is
// turned off before it first comes up: until its link-local address leaves
// the tentative state the kernel sends no neighbour solicitations from it,
// so the host could not reach any container for a second or two.
func ensureBridge(name string, v6 bool) (*netlink.Bridge, error) {
	l, err := linkByName(name)
	if err != nil {
		return nil, err
	}
	if l == nil {
		// An explicit address pins the bridge's MAC. Left unset, the kernel
		// lends it the lowest port MAC and changes it as ports come and go,
		// which leaves every container with a stale neighbour entry for the
		// gateway.
		mac, err := randomMAC()
		if err != nil {
			return nil, fmt.Errorf("create bridge %s: %w", name, err)
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, HardwareAddr: mac, TxQLen: -1}}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create bridge %s: %w", name, err)
		}
		if l, err = netlinksafe.LinkByName(name); err != nil {
			return nil, fmt.Errorf("look up bridge %s after creating it: %w", name, err)
		}
	}
	br, ok := l.(*netlink.Bridge)
	if !ok {
		return nil, fmt.Errorf("link %s exists but is a %s, not a bridge", name, l.Type())
	}
	if v6 {
		if err := prepareIPv6(name); err != nil {
			return nil, err
		}
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("set bridge %s up: %w", name, err)
		}
	}
	return br, nil
}

// ensureAddr adds addr to link unless it is already there: gateway
// addresses on a shared bridge are added by the first container of a
// network and found by the rest.
func ensureAddr(link netlink.Link, addr *netlink.Addr) error {
	if err := netlink.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s to %s: %w", addr.IPNet, link.Attrs().Name, err)
	}
	return nil
}

// createVeth makes the pair with the container end born inside the target
// namespace. Creating it on the host and moving it would cost an
// rcu_barrier under the rtnl lock, which serialises every parallel ADD on
// the machine. The host end is created up unless the caller has sysctls to
// set first, and enslaved when masterIndex is set. A nil contMAC leaves the
// container end's address to the kernel.
func createVeth(hostName, alias, contName string, contMAC net.HardwareAddr, mtu, masterIndex int, up bool, netns ns.NetNS) (*netlink.Veth, error) {
	var flags net.Flags
	if up {
		flags = net.FlagUp
	}
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:        hostName,
			MTU:         mtu,
			MasterIndex: masterIndex,
			Flags:       flags,
			TxQLen:      -1,
		},
		PeerName:         contName,
		PeerNamespace:    netlink.NsFd(int(netns.Fd())),
		PeerTxQLen:       -1,
		PeerHardwareAddr: contMAC,
	}
	if err := netlink.LinkAdd(veth); err != nil {
		// LinkAdd may have created the pair before failing to enslave it.
		if l, _ := linkByName(hostName); l != nil && !errors.Is(err, unix.EEXIST) {
			_ = netlink.LinkDel(l)
		}
		return nil, fmt.Errorf("create veth %s with peer %s in %s: %w", hostName, contName, netns.Path(), err)
	}
	// The kernel ignores IFLA_IFALIAS when creating a link, so the tag that
	// marks the link as ours takes a second request.
	if err := netlink.LinkSetAlias(veth, alias); err != nil {
		_ = netlink.LinkDel(veth)
		return nil, fmt.Errorf("set alias of veth %s: %w", hostName, err)
	}
	l, err := netlinksafe.LinkByName(hostName)
	if err != nil {
		_ = netlink.LinkDel(veth)
		return nil, fmt.Errorf("look up veth %s after creating it: %w", hostName, err)
	}
	v, ok := l.(*netlink.Veth)
	if !ok {
		return nil, fmt.Errorf("link %s is a %s, not a veth", hostName, l.Type())
	}
	return v, nil
}

// deleteOwnedLink deletes the host veth if it exists and carries our tag;
// a missing link is success, which is what makes DEL idempotent.
func deleteOwnedLink(name, tag string) error {
	l, err := linkByName(name)
	if err != nil || l == nil {
		return err
	}
	if l.Attrs().Alias != tag {
		return nil
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete veth %s: %w", name, err)
	}
	return nil
}

// setSysctl writes one net sysctl of the calling thread's network namespace.
func setSysctl(path, value string) error {
	full := filepath.Join("/proc/sys/net", path)
	if err := os.WriteFile(full, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", full, value, err)
	}
	return nil
}

// prepareIPv6 enables IPv6 on ifName and turns off duplicate address
// detection, so the addresses we add are usable at once instead of staying
// tentative for a second or more. The addresses come from IPAM, which has
// already made them unique.
func prepareIPv6(ifName string) error {
	if err := setSysctl("ipv6/conf/"+ifName+"/disable_ipv6", "0"); err != nil {
		return err
	}
	return setSysctl("ipv6/conf/"+ifName+"/accept_dad", "0")
}

// enableForwarding turns on routing in the host namespace for the families
// in use; a gateway that does not forward is not one. It reads first
// because every write walks all devices under rtnl, even when it changes
// nothing.
func enableForwarding(v4, v6 bool) error {
	for _, f := range []struct {
		on   bool
		path string
	}{{v4, "ipv4/ip_forward"}, {v6, "ipv6/conf/all/forwarding"}} {
		if !f.on {
			continue
		}
		cur, err := os.ReadFile(filepath.Join("/proc/sys/net", f.path))
		if err == nil && len(cur) > 0 && cur[0] == '1' {
			continue
		}
		if err := setSysctl(f.path, "1"); err != nil {
			return err
		}
	}
	return nil
}

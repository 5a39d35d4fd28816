package veth

// Isolation between networks (filter table, per address family):
//
//	FORWARD          -j LLCR-ISOLATION   (first rule)
//	LLCR-ISOLATION   -i <bridge> ! -o <bridge> -m devgroup --dst-group <bridgeGroup>
//	                 -m comment --comment llcr-veth:<network> -j DROP   (one per network)
//
// Every bridge this plugin makes is put in device group bridgeGroup, so a
// network's one rule drops whatever its containers send towards any other
// llcr-veth network, however many there are and whatever their bridges are
// called, while traffic to the host and out of it is untouched. Without it
// the host, which forwards for the containers, would route between
// networks (and masquerade on the way). The rule lives as long as its
// bridge has ports: ADD adds it, the DEL or GC that removes the last port
// removes it, both under the bridge's lock.

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

const (
	filterTable    = "filter"
	forwardChain   = "FORWARD"
	isolationChain = "LLCR-ISOLATION"
	// bridgeGroup is "llcr" in ASCII: the device group of our bridges.
	bridgeGroup = 0x6c6c6372
)

func isolationRule(network, bridge string) []string {
	return []string{"-i", bridge, "!", "-o", bridge, "-m", "devgroup", "--dst-group", fmt.Sprintf("%#x", bridgeGroup),
		"-m", "comment", "--comment", tagPrefix + network, "-j", "DROP"}
}

// ensureBridgeGroup puts br in bridgeGroup (bridges made by older versions
// join it the next time a container is added).
func ensureBridgeGroup(br netlink.Link) error {
	if br.Attrs().Group == bridgeGroup {
		return nil
	}
	if err := netlink.LinkSetGroup(br, bridgeGroup); err != nil {
		return fmt.Errorf("set device group of bridge %s: %w", br.Attrs().Name, err)
	}
	return nil
}

// addIsolation queues the network's rule (and the shared chain and jump).
// The caller holds the bridge's lock.
func addIsolation(b *batch, network, bridge string) {
	b.ensureChain(filterTable, isolationChain)
	b.insertFirstUnique(filterTable, forwardChain, []string{"-j", isolationChain})
	b.appendUnique(filterTable, isolationChain, isolationRule(network, bridge))
}

// bridgeIdle reports whether bridge has no ports left (or is gone), the
// point at which its network's rule goes. The caller holds the bridge's
// lock.
func bridgeIdle(bridge string) (bool, error) {
	br, err := linkByName(bridge)
	if err != nil || br == nil {
		return err == nil, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return false, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			return false, nil
		}
	}
	return true, nil
}

// removeIsolation queues the removal of the network's rule. The shared
// chain and jump stay, as docker's chains do: they cost nothing when empty.
func removeIsolation(b *batch, network, bridge string) {
	if b.chainExists(filterTable, isolationChain) {
		b.deleteRule(filterTable, isolationChain, isolationRule(network, bridge))
	}
}

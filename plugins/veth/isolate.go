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
	"errors"
	"fmt"
	"os/exec"

	"github.com/coreos/go-iptables/iptables"
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

// setupIsolation adds the network's rule (and the shared chain and jump).
// The caller holds the bridge's lock.
func setupIsolation(network, bridge string, v4, v6 bool) error {
	for _, f := range []struct {
		on    bool
		proto iptables.Protocol
	}{{v4, iptables.ProtocolIPv4}, {v6, iptables.ProtocolIPv6}} {
		if !f.on {
			continue
		}
		ipt, err := iptables.NewWithProtocol(f.proto)
		if err != nil {
			return fmt.Errorf("isolate network %s: %w", network, err)
		}
		exists, err := ipt.ChainExists(filterTable, isolationChain)
		if err != nil {
			return fmt.Errorf("look up chain %s: %w", isolationChain, err)
		}
		if !exists {
			if err := ipt.NewChain(filterTable, isolationChain); err != nil && !isChainExists(err) {
				return fmt.Errorf("create chain %s: %w", isolationChain, err)
			}
		}
		jump := []string{"-j", isolationChain}
		if ok, err := ipt.Exists(filterTable, forwardChain, jump...); err != nil {
			return fmt.Errorf("look up jump to %s: %w", isolationChain, err)
		} else if !ok {
			if err := ipt.Insert(filterTable, forwardChain, 1, jump...); err != nil {
				return fmt.Errorf("add jump to %s: %w", isolationChain, err)
			}
		}
		if err := ipt.AppendUnique(filterTable, isolationChain, isolationRule(network, bridge)...); err != nil {
			return fmt.Errorf("add isolation rule of network %s: %w", network, err)
		}
	}
	return nil
}

func isChainExists(err error) bool {
	var e *iptables.Error
	return errors.As(err, &e) && e.ExitStatus() == 1
}

// removeIsolationIfIdle removes the network's rule once its bridge has no
// ports left. The caller holds the bridge's lock. The shared chain and
// jump stay, as docker's chains do: they cost nothing when empty.
func removeIsolationIfIdle(network, bridge string) error {
	br, err := linkByName(bridge)
	if err != nil {
		return err
	}
	if br != nil {
		links, err := netlink.LinkList()
		if err != nil {
			return fmt.Errorf("list links: %w", err)
		}
		for _, l := range links {
			if l.Attrs().MasterIndex == br.Attrs().Index {
				return nil
			}
		}
	}
	var errs []error
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		ipt, err := iptables.NewWithProtocol(proto)
		if err != nil {
			if !errors.Is(err, exec.ErrNotFound) {
				errs = append(errs, fmt.Errorf("remove isolation of network %s: %w", network, err))
			}
			continue
		}
		if ok, _ := ipt.ChainExists(filterTable, isolationChain); !ok {
			continue
		}
		if err := ipt.DeleteIfExists(filterTable, isolationChain, isolationRule(network, bridge)...); err != nil {
			errs = append(errs, fmt.Errorf("remove isolation rule of network %s: %w", network, err))
		}
	}
	return errors.Join(errs...)
}

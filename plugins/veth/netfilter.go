package veth

// ADD, DEL and GC make their isolation (filter) and masquerade (nat)
// changes together: one batch per address family, read and written under
// the bridge's lock, the shared isolation chain's lock and the network's
// masquerade lock, always taken in that order. See isolate.go and masq.go
// for the layout and batch.go for the mechanics.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
)

// withLocks runs fn holding every lock in names, taken in order.
func withLocks(names []string, fn func() error) error {
	if len(names) == 0 {
		return fn()
	}
	return withLock(names[0], func() error { return withLocks(names[1:], fn) })
}

// isolationLock guards the LLCR-ISOLATION chain and its FORWARD jump,
// which every network shares: two networks' first ADDs, each under its own
// bridge lock, could otherwise both find the chain missing, and the second
// restore's declaration of it would flush the first one's rule.
const isolationLock = "isolation"

func netfilterLocks(conf *NetConf, isolate, masq bool) []string {
	var locks []string
	if isolate {
		locks = append(locks, "bridge-"+conf.Bridge, isolationLock)
	}
	if masq {
		locks = append(locks, masqLock(conf.Name))
	}
	return locks
}

// setupNetfilter installs the attachment's isolation and masquerade rules
// for the families it has addresses in.
func setupNetfilter(conf *NetConf, tag string, p *plan) error {
	isolate := conf.Mode == ModeBridge
	if !isolate && !conf.IPMasq {
		return nil
	}
	return withLocks(netfilterLocks(conf, isolate, conf.IPMasq), func() error {
		for _, f := range []family{familyV4, familyV6} {
			addrs := addrsOf(p, f)
			if len(addrs) == 0 {
				continue
			}
			b, err := newBatch(f)
			if err != nil {
				return fmt.Errorf("set up netfilter rules of network %s: %w", conf.Name, err)
			}
			if isolate {
				addIsolation(b, conf.Name, conf.Bridge)
			}
			if conf.IPMasq {
				addMasq(b, conf.Name, tag, addrs)
			}
			if err := b.commit(); err != nil {
				return fmt.Errorf("set up netfilter rules of network %s: %w", conf.Name, err)
			}
		}
		return nil
	})
}

// teardownNetfilter removes the network's isolation rule if its bridge has
// no ports left and, when masq, the masquerade jumps whose tag satisfies
// drop (and the chain once unreferenced). Missing iptables tools are
// success: there can be no rules then.
func teardownNetfilter(conf *NetConf, stdin []byte, masq bool, drop func(string) bool) error {
	isolate := conf.Mode == ModeBridge
	if !isolate && !masq {
		return nil
	}
	return withLocks(netfilterLocks(conf, isolate, masq), func() error {
		var errs []error
		idle := false
		if isolate {
			var err error
			if idle, err = bridgeIdle(conf.Bridge); err != nil {
				errs = append(errs, fmt.Errorf("remove isolation of network %s: %w", conf.Name, err))
			}
		}
		if !idle && !masq {
			return errors.Join(errs...)
		}
		for _, f := range confFamilies(stdin) {
			b, err := newBatch(f)
			if err != nil {
				if !errors.Is(err, exec.ErrNotFound) {
					errs = append(errs, fmt.Errorf("remove netfilter rules of network %s: %w", conf.Name, err))
				}
				continue
			}
			if idle {
				removeIsolation(b, conf.Name, conf.Bridge)
			}
			if masq {
				removeMasqRules(b, conf.Name, drop)
			}
			if err := b.commit(); err != nil {
				errs = append(errs, fmt.Errorf("remove netfilter rules of network %s: %w", conf.Name, err))
			}
		}
		return errors.Join(errs...)
	})
}

// ipamRanges is what DEL and GC can learn about a network's address
// families from its IPAM section without running the IPAM plugin: the
// host-local "ranges" and legacy "subnet", and the static "addresses".
type ipamRanges struct {
	IPAM struct {
		Subnet string `json:"subnet"`
		Ranges [][]struct {
			Subnet string `json:"subnet"`
		} `json:"ranges"`
		Addresses []struct {
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"ipam"`
}

// confFamilies returns the families a network's rules can be in: those of
// its configured ranges, or both when the IPAM section names none we can
// read (another IPAM plugin), so nothing is missed.
func confFamilies(stdin []byte) []family {
	both := []family{familyV4, familyV6}
	var c ipamRanges
	if json.Unmarshal(stdin, &c) != nil {
		return both
	}
	cidrs := []string{c.IPAM.Subnet}
	for _, set := range c.IPAM.Ranges {
		for _, r := range set {
			cidrs = append(cidrs, r.Subnet)
		}
	}
	for _, a := range c.IPAM.Addresses {
		cidrs = append(cidrs, a.Address)
	}
	v4, v6 := false, false
	for _, s := range cidrs {
		if s == "" {
			continue
		}
		ip, _, err := net.ParseCIDR(s)
		if err != nil {
			return both
		}
		if ip.To4() == nil {
			v6 = true
		} else {
			v4 = true
		}
	}
	if !v4 && !v6 {
		return both
	}
	var out []family
	if v4 {
		out = append(out, familyV4)
	}
	if v6 {
		out = append(out, familyV6)
	}
	return out
}

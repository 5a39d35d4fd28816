package veth

// Masquerade layout (iptables nat table, per address family):
//
//	POSTROUTING  -s <container IP>/32 -m comment --comment llcr-veth:<net>:<cid>/<if> -j LLCR-MASQ-<hash(net)>
//	LLCR-MASQ-<hash(net)>
//	             -d <subnet> -j RETURN          (one per subnet of the network)
//	             ! -d 224.0.0.0/4 -j MASQUERADE (ff00::/8 for IPv6)
//
// The chain is per network and shared; each container owns only its jump
// rule, tagged with the same attachment tag as its host veth. The kernel's
// rule set is therefore the reference count: DEL deletes its tagged rule,
// GC deletes tagged rules of attachments not in the valid set, and whoever
// removes the last jump into a chain deletes the chain. No state lives
// outside the kernel, so a crash between steps leaves nothing that GC
// cannot see. The per-network lock makes "is the chain still referenced?"
// and "add a jump to it" atomic with respect to each other.

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

const (
	natTable    = "nat"
	postrouting = "POSTROUTING"
)

type family struct {
	proto     iptables.Protocol
	multicast string
}

var (
	familyV4 = family{iptables.ProtocolIPv4, "224.0.0.0/4"}
	familyV6 = family{iptables.ProtocolIPv6, "ff00::/8"}
)

func familyOf(ip net.IP) family {
	if ip.To4() == nil {
		return familyV6
	}
	return familyV4
}

func masqLock(network string) string { return "masq-" + masqChain(network) }

// setupMasq installs the network's chain (if missing) and this
// attachment's jump rules.
func setupMasq(network, tag string, p *plan) error {
	chain := masqChain(network)
	return withLock(masqLock(network), func() error {
		for _, f := range []family{familyV4, familyV6} {
			var addrs []addrPlan
			for _, a := range p.addrs {
				if familyOf(a.ipc.Address.IP) == f {
					addrs = append(addrs, a)
				}
			}
			if len(addrs) == 0 {
				continue
			}
			ipt, err := iptables.NewWithProtocol(f.proto)
			if err != nil {
				return fmt.Errorf("masquerade for network %s: %w", network, err)
			}
			if err := ensureMasqChain(ipt, chain, f, addrs); err != nil {
				return err
			}
			for _, a := range addrs {
				rule := jumpRule(a.hostPrefix(), tag, chain)
				if err := ipt.AppendUnique(natTable, postrouting, rule...); err != nil {
					return fmt.Errorf("add masquerade jump %v to %s: %w", rule, postrouting, err)
				}
			}
		}
		return nil
	})
}

func jumpRule(src *net.IPNet, tag, chain string) []string {
	return []string{"-s", src.String(), "-m", "comment", "--comment", tag, "-j", chain}
}

func ensureMasqChain(ipt *iptables.IPTables, chain string, f family, addrs []addrPlan) error {
	exists, err := ipt.ChainExists(natTable, chain)
	if err != nil {
		return fmt.Errorf("look up chain %s: %w", chain, err)
	}
	if !exists {
		if err := ipt.NewChain(natTable, chain); err != nil {
			return fmt.Errorf("create chain %s: %w", chain, err)
		}
	}
	// Exemptions go first so they precede the catch-all MASQUERADE even
	// when a subnet is added to the network after the chain was made.
	for _, a := range addrs {
		rule := []string{"-d", a.subnet.String(), "-j", "RETURN"}
		ok, err := ipt.Exists(natTable, chain, rule...)
		if err != nil {
			return fmt.Errorf("look up rule %v in %s: %w", rule, chain, err)
		}
		if !ok {
			if err := ipt.Insert(natTable, chain, 1, rule...); err != nil {
				return fmt.Errorf("add rule %v to %s: %w", rule, chain, err)
			}
		}
	}
	rule := []string{"!", "-d", f.multicast, "-j", "MASQUERADE"}
	if err := ipt.AppendUnique(natTable, chain, rule...); err != nil {
		return fmt.Errorf("add rule %v to %s: %w", rule, chain, err)
	}
	return nil
}

// masqRule is a parsed POSTROUTING rule we may own.
type masqRule struct {
	spec  []string
	tag   string
	chain string
}

// listJumps returns the POSTROUTING rules carrying one of our tags.
func listJumps(ipt *iptables.IPTables) ([]masqRule, error) {
	lines, err := ipt.List(natTable, postrouting)
	if err != nil {
		return nil, fmt.Errorf("list nat %s: %w", postrouting, err)
	}
	var out []masqRule
	for _, line := range lines {
		fields := splitRule(line)
		if len(fields) < 2 || fields[0] != "-A" {
			continue
		}
		r := masqRule{spec: fields[2:]}
		for i := 0; i+1 < len(r.spec); i++ {
			switch r.spec[i] {
			case "--comment":
				r.tag = r.spec[i+1]
			case "-j":
				r.chain = r.spec[i+1]
			}
		}
		if strings.HasPrefix(r.tag, tagPrefix) {
			out = append(out, r)
		}
	}
	return out, nil
}

// splitRule splits an iptables -S line into words, undoing the double
// quotes iptables puts around comments with punctuation in them.
func splitRule(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quoted:
			escaped = true
		case r == '"':
			quoted = !quoted
			inWord = true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// removeMasq deletes the jump rules whose tag satisfies drop, then the
// network's chain if nothing jumps to it any more. A missing iptables
// binary is success when tolerateMissing: there can be no rules then.
func removeMasq(network string, drop func(tag string) bool, tolerateMissing bool) error {
	chain := masqChain(network)
	return withLock(masqLock(network), func() error {
		var errs []error
		for _, f := range []family{familyV4, familyV6} {
			ipt, err := iptables.NewWithProtocol(f.proto)
			if err != nil {
				if tolerateMissing && errors.Is(err, exec.ErrNotFound) {
					continue
				}
				errs = append(errs, fmt.Errorf("remove masquerade for network %s: %w", network, err))
				continue
			}
			errs = append(errs, removeMasqFamily(ipt, chain, drop))
		}
		return errors.Join(errs...)
	})
}

func removeMasqFamily(ipt *iptables.IPTables, chain string, drop func(string) bool) error {
	rules, err := listJumps(ipt)
	if err != nil {
		return err
	}
	referenced := false
	for _, r := range rules {
		if r.chain != chain {
			continue
		}
		if !drop(r.tag) {
			referenced = true
			continue
		}
		if err := ipt.DeleteIfExists(natTable, postrouting, r.spec...); err != nil {
			return fmt.Errorf("delete masquerade jump %v: %w", r.spec, err)
		}
	}
	if referenced {
		return nil
	}
	exists, err := ipt.ChainExists(natTable, chain)
	if err != nil {
		return fmt.Errorf("look up chain %s: %w", chain, err)
	}
	if exists {
		if err := ipt.ClearAndDeleteChain(natTable, chain); err != nil {
			return fmt.Errorf("delete chain %s: %w", chain, err)
		}
	}
	return nil
}

// checkMasq verifies this attachment's jump rules and the chain they target.
func checkMasq(network, tag string, p *plan) error {
	chain := masqChain(network)
	for _, f := range []family{familyV4, familyV6} {
		var ipt *iptables.IPTables
		for _, a := range p.addrs {
			if familyOf(a.ipc.Address.IP) != f {
				continue
			}
			if ipt == nil {
				var err error
				if ipt, err = iptables.NewWithProtocol(f.proto); err != nil {
					return fmt.Errorf("check masquerade for network %s: %w", network, err)
				}
				rule := []string{"!", "-d", f.multicast, "-j", "MASQUERADE"}
				ok, err := ipt.Exists(natTable, chain, rule...)
				if err != nil || !ok {
					return fmt.Errorf("masquerade rule %v missing from chain %s (err: %v)", rule, chain, err)
				}
			}
			rule := jumpRule(a.hostPrefix(), tag, chain)
			ok, err := ipt.Exists(natTable, postrouting, rule...)
			if err != nil {
				return fmt.Errorf("look up masquerade jump %v: %w", rule, err)
			}
			if !ok {
				return fmt.Errorf("masquerade jump %v missing from nat %s", rule, postrouting)
			}
		}
	}
	return nil
}

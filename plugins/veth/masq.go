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
	// save and restore are the family's batch tools (see batch.go).
	save, restore string
}

var (
	familyV4 = family{iptables.ProtocolIPv4, "224.0.0.0/4", "iptables-save", "iptables-restore"}
	familyV6 = family{iptables.ProtocolIPv6, "ff00::/8", "ip6tables-save", "ip6tables-restore"}
)

func familyOf(ip net.IP) family {
	if ip.To4() == nil {
		return familyV6
	}
	return familyV4
}

func masqLock(network string) string { return "masq-" + masqChain(network) }

// addrsOf returns the plan's addresses of family f.
func addrsOf(p *plan, f family) []addrPlan {
	var addrs []addrPlan
	for _, a := range p.addrs {
		if familyOf(a.ipc.Address.IP) == f {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// addMasq queues the network's chain (if missing) and this attachment's
// jump rules for addrs. The caller holds the network's masquerade lock.
func addMasq(b *batch, network, tag string, addrs []addrPlan) {
	chain := masqChain(network)
	b.ensureChain(natTable, chain)
	// Exemptions go first so they precede the catch-all MASQUERADE even
	// when a subnet is added to the network after the chain was made.
	for _, a := range addrs {
		b.insertFirstUnique(natTable, chain, []string{"-d", a.subnet.String(), "-j", "RETURN"})
	}
	b.appendUnique(natTable, chain, []string{"!", "-d", b.fam.multicast, "-j", "MASQUERADE"})
	for _, a := range addrs {
		b.appendUnique(natTable, postrouting, jumpRule(a.hostPrefix(), tag, chain))
	}
}

func jumpRule(src *net.IPNet, tag, chain string) []string {
	return []string{"-s", src.String(), "-m", "comment", "--comment", tag, "-j", chain}
}

// masqRule is a parsed POSTROUTING rule we may own.
type masqRule struct {
	spec  []string
	tag   string
	chain string
}

// listJumps returns the POSTROUTING rules carrying one of our tags.
func listJumps(b *batch) []masqRule {
	var out []masqRule
	for _, sr := range b.rules(natTable, postrouting) {
		r := masqRule{spec: sr.spec}
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
	return out
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
// network's chain if nothing jumps to it any more, in both families. A
// missing iptables binary is success when tolerateMissing: there can be no
// rules then.
func removeMasq(network string, drop func(tag string) bool, tolerateMissing bool) error {
	return withLock(masqLock(network), func() error {
		var errs []error
		for _, f := range []family{familyV4, familyV6} {
			b, err := newBatch(f)
			if err != nil {
				if !tolerateMissing || !errors.Is(err, exec.ErrNotFound) {
					errs = append(errs, fmt.Errorf("remove masquerade for network %s: %w", network, err))
				}
				continue
			}
			removeMasqRules(b, network, drop)
			if err := b.commit(); err != nil {
				errs = append(errs, fmt.Errorf("remove masquerade for network %s: %w", network, err))
			}
		}
		return errors.Join(errs...)
	})
}

// removeMasqRules queues the deletions removeMasq describes. The caller
// holds the network's masquerade lock.
func removeMasqRules(b *batch, network string, drop func(string) bool) {
	chain := masqChain(network)
	referenced := false
	for _, r := range listJumps(b) {
		if r.chain != chain {
			continue
		}
		if !drop(r.tag) {
			referenced = true
			continue
		}
		b.deleteRule(natTable, postrouting, r.spec)
	}
	if !referenced {
		b.deleteChain(natTable, chain)
	}
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

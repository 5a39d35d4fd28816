package network

import (
	"errors"
	"strings"

	"github.com/coreos/go-iptables/iptables"

	"llcr/cni"
)

// portmap creates host-wide chains on its first ADD with ports and never
// removes them. Without a container publishing ports they are dead weight
// on the host (and look like a leak), so the last container to unpublish
// removes them; portmap makes them again on its next ADD. The names and
// jump rules are portmap's (plugins/meta/portmap, marked there as fixed).
const (
	pmDNAT    = "CNI-HOSTPORT-DNAT"
	pmMasq    = "CNI-HOSTPORT-MASQ"
	pmSetMark = "CNI-HOSTPORT-SETMARK"
)

var pmJumps = []struct {
	chain string
	rule  []string
}{
	{"PREROUTING", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", pmDNAT}},
	{"OUTPUT", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", pmDNAT}},
	{"POSTROUTING", []string{"-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", pmMasq}},
}

// prunePortmap removes portmap's chains where no port is published any more.
func prunePortmap(mgr *cni.Manager) error {
	unlock, err := mgr.LockPortmap(true)
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		ipt, err := iptables.NewWithProtocol(proto)
		if err != nil {
			continue // no ip6tables on this host: nothing of portmap's there either
		}
		errs = append(errs, pruneTable(ipt))
	}
	return errors.Join(errs...)
}

func pruneTable(ipt *iptables.IPTables) error {
	if ok, err := ipt.ChainExists("nat", pmDNAT); err != nil || !ok {
		return err
	}
	rules, err := ipt.List("nat", pmDNAT)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if strings.HasPrefix(r, "-A ") {
			return nil // a container still publishes ports
		}
	}
	var errs []error
	for _, j := range pmJumps {
		errs = append(errs, ipt.DeleteIfExists("nat", j.chain, j.rule...))
	}
	for _, c := range []string{pmDNAT, pmMasq, pmSetMark} {
		if ok, _ := ipt.ChainExists("nat", c); ok {
			errs = append(errs, ipt.ClearAndDeleteChain("nat", c))
		}
	}
	return errors.Join(errs...)
}

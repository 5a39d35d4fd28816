package veth

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
)

var versions = []string{"0.4.0", "1.0.0", "1.1.0"}

func TestAddCheckDel(t *testing.T) {
	for i, ver := range versions {
		for _, mode := range []string{ModeBridge, ModeRouted} {
			t.Run(ver+"/"+mode, func(t *testing.T) {
				e := newEnv(t)
				br := uniq("llcrt")
				network := uniq("net-")
				v4 := fmt.Sprintf("10.77.%d.0/24", i)
				v6 := fmt.Sprintf("fd42:77:%d::/64", i)
				conf := e.config(ver, network, map[string]any{"mode": mode, "bridge": br}, v4, v6)
				a := e.add(conf)

				hostName := HostVethName(a.args.ContainerID, "eth0")
				host := e.hostLink(hostName)
				if host == nil {
					t.Fatalf("host veth %s missing", hostName)
				}
				wantAlias := "llcr-veth:" + network + ":" + a.args.ContainerID + "/eth0"
				if host.Attrs().Alias != wantAlias {
					t.Errorf("alias = %q, want %q", host.Attrs().Alias, wantAlias)
				}
				if mode == ModeBridge {
					b := e.hostLink(br)
					if b == nil || host.Attrs().MasterIndex != b.Attrs().Index {
						t.Errorf("host veth is not a port of %s", br)
					}
				} else if e.hostLink(br) != nil {
					t.Errorf("routed mode created bridge %s", br)
				}

				addrs := containerAddrs(t, a.netns, "eth0")
				if len(addrs) != 2 {
					t.Fatalf("container addresses = %v, want one IPv4 and one IPv6", addrs)
				}
				wantBits := map[string]string{ModeBridge: "/24", ModeRouted: "/32"}[mode]
				if !strings.HasSuffix(addrs[0], wantBits) && !strings.HasSuffix(addrs[1], wantBits) {
					t.Errorf("container addresses %v: no IPv4 %s", addrs, wantBits)
				}
				if len(a.result.Routes) != 2 {
					t.Errorf("routes = %v, want a default route per family", a.result.Routes)
				}

				if err := e.check(a); err != nil {
					t.Errorf("CHECK: %v", err)
				}
				if got := e.leases(network); len(got) != 2 {
					t.Errorf("leases after ADD = %v, want 2", got)
				}
				for n := 0; n < 2; n++ {
					if err := e.del(a); err != nil {
						t.Fatalf("DEL #%d: %v", n+1, err)
					}
				}
				if e.hostLink(hostName) != nil {
					t.Errorf("host veth %s survived DEL", hostName)
				}
				if got := e.leases(network); len(got) != 0 {
					t.Errorf("leases after DEL = %v", got)
				}
			})
		}
	}
}

func TestOnlyIPAMConfig(t *testing.T) {
	e := newEnv(t)
	conf := map[string]any{
		"cniVersion": "1.0.0", "name": uniq("net-"), "type": "llcr-veth",
		"ipam": map[string]any{"type": "host-local", "dataDir": e.dataDir, "subnet": "10.78.0.0/24"},
	}
	a := e.add(conf)
	if e.hostLink(DefaultBridge) == nil {
		t.Errorf("bridge %s not created", DefaultBridge)
	}
	if err := e.check(a); err != nil {
		t.Errorf("CHECK: %v", err)
	}
	if err := e.del(a); err != nil {
		t.Fatalf("DEL: %v", err)
	}
}

func TestConnectivity(t *testing.T) {
	for i, mode := range []string{ModeBridge, ModeRouted} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			conf := e.config("1.1.0", uniq("net-"), map[string]any{"mode": mode, "bridge": uniq("llcrt")},
				fmt.Sprintf("10.79.%d.0/24", i), fmt.Sprintf("fd42:79:%d::/64", i))
			a, b := e.add(conf), e.add(conf)
			for _, v6 := range []bool{false, true} {
				reach(t, a.netns, b.netns, firstIP(t, b.result, v6))
				reach(t, b.netns, a.netns, firstIP(t, a.result, v6))
			}
			// The gateway answers too: the host side is really configured.
			for _, ipc := range a.result.IPs {
				reach(t, a.netns, e.host, ipc.Gateway)
				reach(t, e.host, a.netns, ipc.Address.IP)
			}
			var brMAC string
			if mode == ModeBridge {
				brMAC = e.hostLink(conf["bridge"].(string)).Attrs().HardwareAddr.String()
			}
			for _, x := range []*attachment{a, b} {
				if err := e.del(x); err != nil {
					t.Fatalf("DEL: %v", err)
				}
			}
			if mode == ModeBridge {
				if got := e.hostLink(conf["bridge"].(string)).Attrs().HardwareAddr.String(); got != brMAC {
					t.Errorf("bridge MAC changed from %s to %s as ports left", brMAC, got)
				}
			}
		})
	}
}

func TestDelAfterNetnsGone(t *testing.T) {
	e := newEnv(t)
	network := uniq("net-")
	conf := e.config("1.0.0", network, map[string]any{"bridge": uniq("llcrt")}, "10.80.0.0/24")
	a := e.add(conf)
	closeNS(a.netns)
	for n := 0; n < 2; n++ {
		if err := e.del(a); err != nil {
			t.Fatalf("DEL #%d with netns gone: %v", n+1, err)
		}
	}
	if got := e.leases(network); len(got) != 0 {
		t.Errorf("leases after DEL = %v", got)
	}
	if l := e.hostLink(HostVethName(a.args.ContainerID, "eth0")); l != nil {
		t.Errorf("host veth survived")
	}
}

func TestCheckDetectsRemovedAddress(t *testing.T) {
	e := newEnv(t)
	conf := e.config("1.1.0", uniq("net-"), map[string]any{"bridge": uniq("llcrt")}, "10.81.0.0/24", "fd42:81::/64")
	a := e.add(conf)
	if err := e.check(a); err != nil {
		t.Fatalf("CHECK before: %v", err)
	}
	err := a.netns.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.AddrDel(l, &netlink.Addr{IPNet: &a.result.IPs[0].Address})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.check(a)
	if err == nil || !strings.Contains(err.Error(), "address") {
		t.Fatalf("CHECK after removing an address = %v, want an error about the address", err)
	}
	if err := e.del(a); err != nil {
		t.Fatalf("DEL: %v", err)
	}
}

func TestAddRefusesExistingInterface(t *testing.T) {
	e := newEnv(t)
	network := uniq("net-")
	conf := e.config("1.0.0", network, map[string]any{"bridge": uniq("llcrt")}, "10.82.0.0/24")
	netns := newNS(t)
	err := netns.Do(func(ns.NetNS) error {
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.tryAdd(conf, netns); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("ADD over an existing eth0 = %v, want 'already exists'", err)
	}
	if got := e.leases(network); len(got) != 0 {
		t.Errorf("failed ADD leaked leases %v", got)
	}
}

func TestDefaultMTU(t *testing.T) {
	e := newEnv(t)
	// A default route through a 1400-byte link in the test host.
	err := e.inHost(func() error {
		// Dummy links need a module this kernel may lack; a veth pair with
		// both ends up has carrier just the same.
		d := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "uplink0", MTU: 1400, Flags: net.FlagUp}, PeerName: "uplink1"}
		if err := netlink.LinkAdd(d); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(d); err != nil {
			return err
		}
		peer, err := netlink.LinkByName("uplink1")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(peer); err != nil {
			return err
		}
		_, dst, _ := net.ParseCIDR("0.0.0.0/0")
		return netlink.RouteAdd(&netlink.Route{LinkIndex: d.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mtu, want int
	}{{0, 1400}, {1300, 1300}} {
		conf := e.config("1.0.0", uniq("net-"), map[string]any{"bridge": uniq("llcrt"), "mtu": tc.mtu}, "10.83.0.0/24")
		a := e.add(conf)
		var got int
		_ = a.netns.Do(func(ns.NetNS) error {
			l, err := netlink.LinkByName("eth0")
			if err == nil {
				got = l.Attrs().MTU
			}
			return err
		})
		if got != tc.want {
			t.Errorf("mtu %d: container MTU = %d, want %d", tc.mtu, got, tc.want)
		}
		if err := e.del(a); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMasquerade(t *testing.T) {
	e := newEnv(t)
	network := uniq("net-")
	chain := masqChain(network)
	conf := e.config("1.1.0", network, map[string]any{"bridge": uniq("llcrt"), "ipMasq": true}, "10.84.0.0/24", "fd42:84::/64")
	a, b := e.add(conf), e.add(conf)
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		rules := e.natRules(proto)
		for _, x := range []*attachment{a, b} {
			if !strings.Contains(rules, x.args.ContainerID+"/eth0") {
				t.Errorf("no jump rule for %s in:\n%s", x.args.ContainerID, rules)
			}
		}
		if !strings.Contains(rules, "-A "+chain) || !strings.Contains(rules, "MASQUERADE") {
			t.Errorf("chain %s not populated:\n%s", chain, rules)
		}
	}
	for _, x := range []*attachment{a, b} {
		if err := e.check(x); err != nil {
			t.Errorf("CHECK: %v", err)
		}
	}
	// Removing a's rule behind our back must fail CHECK.
	if err := e.inHost(func() error {
		return removeMasq(network, func(t string) bool { return strings.Contains(t, a.args.ContainerID) }, false)
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.check(a); err == nil || !strings.Contains(err.Error(), "masquerade") {
		t.Errorf("CHECK without the rule = %v, want a masquerade error", err)
	}

	if err := e.del(a); err != nil {
		t.Fatal(err)
	}
	if rules := e.natRules(iptables.ProtocolIPv4); !strings.Contains(rules, "-N "+chain) {
		t.Errorf("chain %s deleted while b still uses it:\n%s", chain, rules)
	}
	if err := e.del(b); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		if rules := e.natRules(proto); strings.Contains(rules, "llcr") || strings.Contains(rules, "LLCR") {
			t.Errorf("rules left after last DEL:\n%s", rules)
		}
	}
}

func TestGC(t *testing.T) {
	e := newEnv(t)
	network := uniq("net-")
	br := uniq("llcrt")
	conf := e.config("1.1.0", network, map[string]any{"bridge": br, "ipMasq": true}, "10.85.0.0/24", "fd42:85::/64")
	stale, live := e.add(conf), e.add(conf)
	// Another network on the same bridge, and a look-alike link we did not
	// make: GC of the first network must leave both alone.
	otherConf := e.config("1.1.0", uniq("net-"), map[string]any{"bridge": br}, "10.86.0.0/24")
	other := e.add(otherConf)
	foreign := "veth0123456789a"
	if err := e.inHost(func() error {
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: foreign}, PeerName: "vethforeignpeer"})
	}); err != nil {
		t.Fatal(err)
	}

	if err := e.gc(conf, live); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if e.hostLink(HostVethName(stale.args.ContainerID, "eth0")) != nil {
		t.Errorf("stale host veth survived GC")
	}
	for _, keep := range []string{HostVethName(live.args.ContainerID, "eth0"), HostVethName(other.args.ContainerID, "eth0"), foreign} {
		if e.hostLink(keep) == nil {
			t.Errorf("GC deleted %s", keep)
		}
	}
	leases := e.leases(network)
	if len(leases) != 2 || !slices.Contains(leases, firstIP(t, live.result, false).String()) {
		t.Errorf("leases after GC = %v, want only the live attachment's two", leases)
	}
	rules := e.natRules(iptables.ProtocolIPv4)
	if strings.Contains(rules, stale.args.ContainerID) || !strings.Contains(rules, live.args.ContainerID) {
		t.Errorf("rules after GC:\n%s", rules)
	}
	if err := e.check(live); err != nil {
		t.Errorf("CHECK of live attachment after GC: %v", err)
	}

	// Nothing valid: everything of the network goes, chain included.
	if err := e.gc(conf); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got := e.leases(network); len(got) != 0 {
		t.Errorf("leases after full GC = %v", got)
	}
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		if rules := e.natRules(proto); strings.Contains(rules, "llcr") || strings.Contains(rules, "LLCR") {
			t.Errorf("rules left after full GC:\n%s", rules)
		}
	}
	if err := e.check(other); err != nil {
		t.Errorf("other network's attachment broken by GC: %v", err)
	}
}

func TestStatus(t *testing.T) {
	e := newEnv(t)
	br := uniq("llcrt")
	conf := e.config("1.1.0", uniq("net-"), map[string]any{"bridge": br}, "10.87.0.0/24")
	if err := e.status(conf); err != nil {
		t.Fatalf("STATUS: %v", err)
	}
	if e.hostLink(br) == nil {
		t.Errorf("STATUS did not find or create bridge %s", br)
	}

	conf["ipam"] = map[string]any{"type": "no-such-ipam"}
	assertCode(t, e.status(conf), types.ErrPluginNotAvailable)

	clash := uniq("llcrt")
	if err := e.inHost(func() error {
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: clash}, PeerName: clash + "p"})
	}); err != nil {
		t.Fatal(err)
	}
	conf = e.config("1.1.0", uniq("net-"), map[string]any{"bridge": clash}, "10.87.0.0/24")
	assertCode(t, e.status(conf), types.ErrPluginNotAvailable)
}

func assertCode(t *testing.T, err error, code uint) {
	t.Helper()
	e, ok := err.(*types.Error)
	if !ok || e.Code != code {
		t.Errorf("error = %#v, want CNI error code %d", err, code)
	}
}

func TestLoadConf(t *testing.T) {
	base := `"cniVersion":"1.0.0","name":"n","type":"llcr-veth"`
	for _, tc := range []struct {
		json, field string
	}{
		{`{` + base + `,"mtu":"big","ipam":{"type":"host-local"}}`, `"mtu"`},
		{`{` + base + `,"mode":"nat","ipam":{"type":"host-local"}}`, `"mode"`},
		{`{` + base + `,"bridge":"a/b","ipam":{"type":"host-local"}}`, `"bridge"`},
		{`{` + base + `,"mtu":10,"ipam":{"type":"host-local"}}`, `"mtu"`},
		{`{` + base + `,"ipMasq":"yes","ipam":{"type":"host-local"}}`, `"ipMasq"`},
		{`{` + base + `}`, `"ipam.type"`},
		{`{"cniVersion":"1.0.0","type":"llcr-veth","ipam":{"type":"host-local"}}`, `"name"`},
		{`{` + base + `,"ipam":{"type":3}}`, `"ipam.type"`},
	} {
		_, err := LoadConf([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("LoadConf(%s) = %v, want an error naming %s", tc.json, err, tc.field)
		}
	}
	c, err := LoadConf([]byte(`{` + base + `,"ipam":{"type":"host-local"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeBridge || c.Bridge != DefaultBridge || !c.gateway() || c.MTU != 0 {
		t.Errorf("defaults = %+v", c)
	}
}

func TestHostVethName(t *testing.T) {
	a, b := HostVethName("c1", "eth0"), HostVethName("c1", "eth1")
	if a == b || len(a) != 15 || !strings.HasPrefix(a, "veth") || a != HostVethName("c1", "eth0") {
		t.Errorf("names %q %q are not distinct, deterministic 15-byte veth names", a, b)
	}
}

func TestBridgeOptions(t *testing.T) {
	e := newEnv(t)
	br := uniq("llcrt")
	conf := e.config("1.0.0", uniq("net-"), map[string]any{"bridge": br, "hairpinMode": true, "isGateway": false}, "10.90.0.0/24")
	a := e.add(conf)
	var hairpin bool
	var brAddrs []netlink.Addr
	err := e.inHost(func() error {
		host, err := netlink.LinkByName(HostVethName(a.args.ContainerID, "eth0"))
		if err != nil {
			return err
		}
		pi, err := netlink.LinkGetProtinfo(host)
		if err != nil {
			return err
		}
		hairpin = pi.Hairpin
		b, err := netlink.LinkByName(br)
		if err != nil {
			return err
		}
		brAddrs, err = netlink.AddrList(b, netlink.FAMILY_V4)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !hairpin {
		t.Errorf("hairpinMode did not enable hairpin on the host veth")
	}
	if len(brAddrs) != 0 || len(a.result.Routes) != 0 {
		t.Errorf("isGateway=false: bridge addresses %v, routes %v; want none", brAddrs, a.result.Routes)
	}
	if err := e.check(a); err != nil {
		t.Errorf("CHECK: %v", err)
	}
	if err := e.del(a); err != nil {
		t.Fatal(err)
	}
}

package cni

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"

	"llcr/netconf"
)

// env is one test's world: its own cache, IPAM data dir and bridge, so
// tests cannot see each other's state and nothing touches the host's
// /var/lib/cni.
type env struct {
	t       *testing.T
	m       *Manager
	dir     string
	dataDir string
	bridge  string
	name    string
	subnet  netip.Prefix
	veth    bool // use our llcr-veth plugin instead of the reference bridge
}

var envSeq atomic.Int32

func newEnv(t *testing.T, subnet string) *env {
	t.Helper()
	i := envSeq.Add(1)
	dir := t.TempDir()
	e := &env{
		t:       t,
		m:       New([]string{pluginDir}, filepath.Join(dir, "cache")),
		dir:     dir,
		dataDir: filepath.Join(dir, "ipam"),
		bridge:  fmt.Sprintf("llcrct%d", i),
		name:    fmt.Sprintf("llcrct-%d", i),
		subnet:  netip.MustParsePrefix(subnet),
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(e.bridge); err == nil {
			if err := netlink.LinkDel(l); err != nil {
				t.Errorf("delete bridge %s: %v", e.bridge, err)
			}
		}
	})
	return e
}

// conflist is a bridge + host-local network. No ipMasq (it would add
// iptables rules) and no isGateway (it would turn on the host's IP
// forwarding): neither is what these tests are about.
func (e *env) conflist(extraPlugins ...string) string {
	typ, extra := "bridge", ""
	if e.veth {
		typ, extra = "llcr-veth", `"mode":"bridge","isGateway":false,`
	}
	plugins := []string{fmt.Sprintf(`{"type":%q,%s"bridge":%q,"capabilities":{"ips":true},
		"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":%q}]]}}`, typ, extra, e.bridge, e.dataDir, e.subnet)}
	plugins = append(plugins, extraPlugins...)
	return fmt.Sprintf(`{"cniVersion":"1.1.0","name":%q,"plugins":[%s]}`, e.name, strings.Join(plugins, ","))
}

func (e *env) network(extraPlugins ...string) *netconf.Network {
	e.t.Helper()
	n, err := netconf.Parse("", []byte(e.conflist(extraPlugins...)))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func newNS(t *testing.T) ns.NetNS {
	t.Helper()
	n, err := testutils.NewNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNS(t, n) })
	return n
}

// closeNS destroys a namespace and its pin; calling it twice is harmless,
// so tests can kill a namespace early and still rely on the cleanup.
func closeNS(t *testing.T, n ns.NetNS) {
	if _, err := os.Stat(n.Path()); err != nil {
		return
	}
	if err := n.Close(); err != nil {
		t.Errorf("close netns: %v", err)
	}
	if err := testutils.UnmountNS(n); err != nil {
		t.Errorf("unmount netns: %v", err)
	}
}

// leases are host-local's reservation files: one per IP, named by it.
func (e *env) leases() []string {
	entries, _ := os.ReadDir(filepath.Join(e.dataDir, e.name))
	var out []string
	for _, d := range entries {
		if net.ParseIP(d.Name()) != nil {
			out = append(out, d.Name())
		}
	}
	return out
}

func (e *env) cacheEntries() []string {
	entries, _ := os.ReadDir(filepath.Join(e.m.CacheDir(), "results"))
	var out []string
	for _, d := range entries {
		out = append(out, d.Name())
	}
	return out
}

// bridgePorts are the host ends of veths plugged into the test bridge.
func (e *env) bridgePorts() []string {
	br, err := netlink.LinkByName(e.bridge)
	if err != nil {
		return nil
	}
	links, err := netlink.LinkList()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// addrsIn returns the addresses of ifname inside netns, or nil if there is
// no such interface.
func addrsIn(t *testing.T, n ns.NetNS, ifname string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	err := n.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return nil
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			ip, _ := netip.AddrFromSlice(a.IP)
			out = append(out, ip.Unmap())
		}
		if out == nil {
			out = []netip.Addr{} // the link exists, even without addresses
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertClean checks that nothing of an attachment survives.
func (e *env) assertClean(what string) {
	e.t.Helper()
	if l := e.leases(); len(l) != 0 {
		e.t.Errorf("%s: leases left: %v", what, l)
	}
	if c := e.cacheEntries(); len(c) != 0 {
		e.t.Errorf("%s: cache entries left: %v", what, c)
	}
	if p := e.bridgePorts(); len(p) != 0 {
		e.t.Errorf("%s: veths left on the bridge: %v", what, p)
	}
}

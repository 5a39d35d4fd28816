package cni

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"llcr/netconf"
)

func TestAttachDetach(t *testing.T) {
	e := newEnv(t, "10.231.1.0/24")
	n := e.network()
	netns := newNS(t)
	ctx := context.Background()

	res, err := e.m.Attach(ctx, "ctr1", netns.Path(), "eth0", n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.IPs) != 1 {
		t.Fatalf("result IPs = %v", res.IPs)
	}
	ip, _ := netip.AddrFromSlice(res.IPs[0].Address.IP)
	if !e.subnet.Contains(ip.Unmap()) {
		t.Errorf("IP %s outside %s", ip, e.subnet)
	}
	if got := addrsIn(t, netns, "eth0"); len(got) != 1 || got[0] != ip.Unmap() {
		t.Errorf("eth0 in the netns has %v, want %s", got, ip)
	}
	if l := e.leases(); len(l) != 1 || l[0] != ip.Unmap().String() {
		t.Errorf("leases = %v", l)
	}
	if p := e.bridgePorts(); len(p) != 1 {
		t.Errorf("bridge ports = %v", p)
	}

	as, err := e.m.Attachments("ctr1")
	if err != nil || len(as) != 1 || as[0].Network != e.name || as[0].IfName != "eth0" || as[0].NetNS != netns.Path() {
		t.Fatalf("Attachments(ctr1) = %+v, %v", as, err)
	}
	if all, err := e.m.Attachments(""); err != nil || len(all) != 1 {
		t.Errorf("Attachments(\"\") = %v, %v", all, err)
	}
	if other, err := e.m.Attachments("ctr"); err != nil || len(other) != 0 {
		t.Errorf("Attachments(ctr) matched a prefix: %v, %v", other, err)
	}

	// A second ADD for the same attachment must be refused without
	// touching the live one.
	if _, err := e.m.Attach(ctx, "ctr1", netns.Path(), "eth0", n, nil); err == nil || !strings.Contains(err.Error(), "already has interface eth0") {
		t.Errorf("second Attach = %v", err)
	}
	if got := addrsIn(t, netns, "eth0"); len(got) != 1 {
		t.Errorf("the refused Attach disturbed eth0: %v", got)
	}

	if err := e.m.Detach(ctx, "ctr1", netns.Path(), "eth0", n); err != nil {
		t.Fatal(err)
	}
	if got := addrsIn(t, netns, "eth0"); got != nil {
		t.Errorf("eth0 still in the netns: %v", got)
	}
	e.assertClean("after Detach")
	if err := e.m.Detach(ctx, "ctr1", netns.Path(), "eth0", n); err != nil {
		t.Errorf("second Detach: %v", err)
	}
}

// The "ips" capability reaches host-local through the bridge plugin.
func TestAttachRequestedIP(t *testing.T) {
	e := newEnv(t, "10.231.2.0/24")
	n := e.network()
	netns := newNS(t)
	ctx := context.Background()
	res, err := e.m.Attach(ctx, "ctr1", netns.Path(), "eth0", n, map[string]interface{}{"ips": []string{"10.231.2.77/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.IPs[0].Address.IP.String(); got != "10.231.2.77" {
		t.Errorf("IP = %s, want the requested 10.231.2.77", got)
	}
	if err := e.m.Detach(ctx, "ctr1", netns.Path(), "eth0", n); err != nil {
		t.Fatal(err)
	}
	e.assertClean("after Detach")
}

// When the namespace died first (the container exited and its pin was
// removed), DEL still releases the lease and the cache entry.
func TestDetachNetnsGone(t *testing.T) {
	e := newEnv(t, "10.231.3.0/24")
	n := e.network()
	netns := newNS(t)
	ctx := context.Background()
	if _, err := e.m.Attach(ctx, "ctr1", netns.Path(), "eth0", n, nil); err != nil {
		t.Fatal(err)
	}
	path := netns.Path()
	closeNS(t, netns)
	if err := e.m.Detach(ctx, "ctr1", path, "eth0", n); err != nil {
		t.Fatal(err)
	}
	// The kernel destroys a namespace, and with it the veth pair, in the
	// background after its last reference goes.
	for i := 0; i < 50 && len(e.bridgePorts()) > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	e.assertClean("after Detach")
}

// DEL comes from the cache, so it works after the network's file changed
// or was removed.
func TestDetachUsesCache(t *testing.T) {
	e := newEnv(t, "10.231.4.0/24")
	confDir := filepath.Join(e.dir, "net.d")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, e.name+".conflist"), []byte(e.conflist()), 0o644); err != nil {
		t.Fatal(err)
	}
	loader := netconf.Loader{Dirs: []string{confDir}, WriteDir: confDir}
	n, err := loader.Get(e.name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns1, ns2 := newNS(t), newNS(t)
	if _, err := e.m.Attach(ctx, "ctr1", ns1.Path(), "eth0", n, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Attach(ctx, "ctr2", ns2.Path(), "eth0", n, nil); err != nil {
		t.Fatal(err)
	}

	// Detach with a changed config (IPAM pointed elsewhere): the cached
	// one is used, so ctr1's lease in the real data dir is released.
	changed := *e
	changed.dataDir = filepath.Join(e.dir, "elsewhere")
	if err := e.m.Detach(ctx, "ctr1", ns1.Path(), "eth0", changed.network()); err != nil {
		t.Fatal(err)
	}
	if l := e.leases(); len(l) != 1 {
		t.Errorf("leases after detaching ctr1 = %v, want only ctr2's", l)
	}

	if err := loader.Remove(e.name); err != nil {
		t.Fatal(err)
	}
	as, err := e.m.Attachments("ctr2")
	if err != nil || len(as) != 1 {
		t.Fatalf("Attachments(ctr2) = %v, %v", as, err)
	}
	if err := e.m.DetachCached(ctx, as[0]); err != nil {
		t.Fatal(err)
	}
	if got := addrsIn(t, ns2, "eth0"); got != nil {
		t.Errorf("eth0 still in ctr2's netns: %v", got)
	}
	e.assertClean("after DetachCached")
}

func TestMissingPlugin(t *testing.T) {
	e := newEnv(t, "10.231.5.0/24")
	netns := newNS(t)
	ctx := context.Background()

	// The missing plugin comes second: the first must not have run.
	n := e.network(`{"type":"nosuchplugin"}`)
	_, err := e.m.Attach(ctx, "ctr1", netns.Path(), "eth0", n, nil)
	want := `network "` + e.name + `": plugin "nosuchplugin" not found in ` + pluginDir + ` (build it with make cni or set CNI_PATH)`
	if err == nil || err.Error() != want {
		t.Errorf("Attach error = %v\nwant %s", err, want)
	}
	var nf *PluginNotFoundError
	if !errors.As(err, &nf) || nf.Plugin != "nosuchplugin" {
		t.Errorf("error is not a PluginNotFoundError: %#v", err)
	}
	if got := addrsIn(t, netns, "eth0"); got != nil {
		t.Errorf("eth0 was created: %v", got)
	}
	e.assertClean("after failed Attach")

	// A missing IPAM plugin is caught the same way.
	bad, err := netconf.Parse("", []byte(strings.Replace(e.conflist(), `"host-local"`, `"nosuchipam"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Attach(ctx, "ctr1", netns.Path(), "eth0", bad, nil); err == nil || !strings.Contains(err.Error(), `plugin "nosuchipam" not found`) {
		t.Errorf("Attach with missing IPAM = %v", err)
	}
	if err := e.m.Status(ctx, n); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Status with missing plugin = %v", err)
	}
	e.assertClean("after failed Attach")
}

// A plugin that fails midway (here host-local, out of addresses) gets a DEL
// so the veth the bridge plugin made is not leaked, and the error names the
// network and plugin.
func TestAttachFailureCleansUp(t *testing.T) {
	e := newEnv(t, "10.231.6.0/30") // .1 is the gateway, .2 the only address
	n := e.network()
	ns1, ns2 := newNS(t), newNS(t)
	ctx := context.Background()
	if _, err := e.m.Attach(ctx, "ctr1", ns1.Path(), "eth0", n, nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.m.Attach(ctx, "ctr2", ns2.Path(), "eth0", n, nil)
	if err == nil {
		t.Fatal("second Attach to a full /30 succeeded")
	}
	prefix := `network "` + e.name + `": plugin bridge: `
	if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), "no IP addresses available") {
		t.Errorf("error = %v\nwant prefix %q and the IPAM reason", err, prefix)
	}
	var pe *PluginError
	if !errors.As(err, &pe) || pe.Plugin != "bridge" || pe.Op != "ADD" {
		t.Errorf("error is not the expected PluginError: %#v", err)
	}
	if got := addrsIn(t, ns2, "eth0"); got != nil {
		t.Errorf("failed attachment left eth0 in its netns: %v", got)
	}
	if l := e.leases(); len(l) != 1 || l[0] != "10.231.6.2" {
		t.Errorf("leases = %v, want only ctr1's", l)
	}
	if c := e.cacheEntries(); len(c) != 1 || !strings.Contains(c[0], "ctr1") {
		t.Errorf("cache = %v, want only ctr1's", c)
	}
	if p := e.bridgePorts(); len(p) != 1 {
		t.Errorf("bridge ports = %v, want only ctr1's", p)
	}
	if err := e.m.Detach(ctx, "ctr1", ns1.Path(), "eth0", n); err != nil {
		t.Fatal(err)
	}
	e.assertClean("after Detach")
}

func TestStatus(t *testing.T) {
	e := newEnv(t, "10.231.7.0/24")
	if err := e.m.Status(context.Background(), e.network()); err != nil {
		t.Errorf("Status: %v", err)
	}
}

func TestArgsValidated(t *testing.T) {
	e := newEnv(t, "10.231.8.0/24")
	n := e.network()
	ctx := context.Background()
	for _, tc := range []struct{ id, netns, ifname, want string }{
		{"", "/x", "eth0", "container id"},
		{"../x", "/x", "eth0", "container id"},
		{"c", "/x", "", "interface name"},
		{"c", "/x", "this-is-too-long0", "interface name"},
		{"c", "", "eth0", "no network namespace"},
	} {
		if _, err := e.m.Attach(ctx, tc.id, tc.netns, tc.ifname, n, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Attach(%q, %q, %q) = %v, want %q", tc.id, tc.netns, tc.ifname, err, tc.want)
		}
	}
	if _, err := e.m.Attach(ctx, "c", "/x", "eth0", nil, nil); err == nil {
		t.Error("Attach with no network succeeded")
	}
}

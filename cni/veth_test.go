package cni

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// newVethEnv is newEnv with llcr's own plugin, built by `make cni` into
// bin/cni; the test is skipped when it has not been built.
func newVethEnv(t *testing.T, subnet string) *env {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "bin", "cni"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "llcr-veth")); err != nil {
		t.Skip("bin/cni/llcr-veth not built (make cni)")
	}
	e := newEnv(t, subnet)
	e.veth = true
	// Our host-local first, so only llcr-veth comes from bin/cni.
	e.m = New([]string{pluginDir, bin}, e.m.CacheDir())
	return e
}

func TestVethAttachDetachGC(t *testing.T) {
	e := newVethEnv(t, "10.231.10.0/24")
	n := e.network()
	ctx := context.Background()
	ns1, ns2 := newNS(t), newNS(t)

	res, err := e.m.Attach(ctx, "ctr1", ns1.Path(), "eth0", n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrsIn(t, ns1, "eth0"); len(got) != 1 || got[0].String() != res.IPs[0].Address.IP.String() {
		t.Errorf("eth0 has %v, result says %v", got, res.IPs)
	}
	if err := e.m.Detach(ctx, "ctr1", ns1.Path(), "eth0", n); err != nil {
		t.Fatal(err)
	}
	e.assertClean("after Detach")

	// An attachment leaked without a cache entry: llcr-veth passes GC on
	// to host-local, so an empty valid list frees its lease and veth.
	if _, err := e.m.Attach(ctx, "ctr2", ns2.Path(), "eth0", n, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(e.m.CacheDir(), "results", e.name+"-ctr2-eth0")); err != nil {
		t.Fatal(err)
	}
	if err := e.m.GC(ctx, n, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50 && len(e.bridgePorts()) > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	e.assertClean("after GC")
	if err := e.m.Status(ctx, n); err != nil {
		t.Errorf("Status: %v", err)
	}
}

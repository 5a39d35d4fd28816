package veth

import (
	"bytes"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/coreos/go-iptables/iptables"
)

// TestCnitool drives the built binary the way a runtime would, through
// libcni, to prove the skel wiring, version negotiation and result caching
// work end to end.
func TestCnitool(t *testing.T) {
	e := newEnv(t)
	keepCNICacheClean(t)
	network := uniq("cnitool-net-")
	conflist := map[string]any{
		"cniVersion": "1.1.0",
		"name":       network,
		"plugins": []any{map[string]any{
			"type": "llcr-veth", "bridge": uniq("llcrt"), "ipMasq": true,
			"ipam": map[string]any{"type": "host-local", "dataDir": e.dataDir, "ranges": [][]map[string]string{
				{{"subnet": "10.88.0.0/24"}}, {{"subnet": "fd42:88::/64"}},
			}},
		}},
	}
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, network+".conflist"), mustJSON(t, conflist), 0o644); err != nil {
		t.Fatal(err)
	}
	netns := newNS(t)
	cnitool := func(verb string) (string, error) {
		var out []byte
		err := e.inHost(func() error {
			cmd := exec.Command(filepath.Join(binDir, "cnitool"), verb, network, netns.Path())
			cmd.Env = append(os.Environ(), "NETCONFPATH="+confDir, "CNI_PATH="+binDir)
			var err error
			out, err = cmd.CombinedOutput()
			return err
		})
		return string(out), err
	}
	run := func(verb string) string {
		t.Helper()
		out, err := cnitool(verb)
		if err != nil {
			t.Fatalf("cnitool %s: %v\n%s", verb, err, out)
		}
		return out
	}
	sum := sha512.Sum512([]byte(netns.Path()))
	hostName := HostVethName(fmt.Sprintf("cnitool-%x", sum[:10]), "eth0")

	out := run("add")
	var res current.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.IPs) != 2 {
		t.Fatalf("cnitool add printed %q (%v), want a result with two IPs", out, err)
	}
	if e.hostLink(hostName) == nil {
		t.Fatalf("host veth %s missing after cnitool add", hostName)
	}
	run("check")
	run("status")
	run("del")
	run("del")
	if e.hostLink(hostName) != nil || len(e.leases(network)) != 0 {
		t.Fatalf("cnitool del left veth or leases %v", e.leases(network))
	}

	// GC with no valid attachments (what cnitool sends) sweeps everything.
	run("add")
	run("gc")
	if e.hostLink(hostName) != nil || len(e.leases(network)) != 0 {
		t.Errorf("cnitool gc left veth or leases %v", e.leases(network))
	}
	if rules := e.natRules(iptables.ProtocolIPv4); strings.Contains(rules, "llcr") {
		t.Errorf("cnitool gc left rules:\n%s", rules)
	}
	run("del") // drops libcni's cached result
}

// keepCNICacheClean removes what libcni's default cache dir gains from
// cnitool, without touching entries another user put there.
func keepCNICacheClean(t *testing.T) {
	for _, d := range []string{"/var/lib/cni", "/var/lib/cni/results"} {
		if _, err := os.Stat(d); err == nil {
			continue
		}
		t.Cleanup(func() { _ = os.Remove(d) }) // only succeeds while empty
	}
}

// TestParallelAdd runs many binaries at once against one new bridge and
// masquerade chain: the locks must make exactly one create each, and the
// last DEL must remove the chain.
func TestParallelAdd(t *testing.T) {
	e := newEnv(t)
	network := uniq("par-net-")
	conf := e.config("1.1.0", network, map[string]any{"bridge": uniq("llcrt"), "ipMasq": true}, "10.89.0.0/24", "fd42:89::/64")
	stdin := mustJSON(t, conf)
	const n = 8
	nss := make([]ns.NetNS, n)
	for i := range nss {
		nss[i] = newNS(t)
	}
	exec1 := func(verb string, i int) ([]byte, error) {
		var out []byte
		err := e.inHost(func() error {
			cmd := exec.Command(filepath.Join(binDir, "llcr-veth"))
			cmd.Env = append(os.Environ(), "CNI_COMMAND="+verb, "CNI_CONTAINERID="+fmt.Sprintf("par-%d", i),
				"CNI_NETNS="+nss[i].Path(), "CNI_IFNAME=eth0", "CNI_PATH="+binDir)
			cmd.Stdin = bytes.NewReader(stdin)
			var err error
			out, err = cmd.Output()
			return err
		})
		return out, err
	}
	all := func(verb string) [][]byte {
		t.Helper()
		outs := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = exec1(verb, i)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s #%d: %v\n%s", verb, i, err, outs[i])
			}
		}
		return outs
	}

	seen := map[string]bool{}
	for _, out := range all("ADD") {
		var res current.Result
		if err := json.Unmarshal(out, &res); err != nil || len(res.IPs) != 2 {
			t.Fatalf("ADD printed %q (%v)", out, err)
		}
		for _, ipc := range res.IPs {
			if seen[ipc.Address.String()] {
				t.Errorf("address %s handed out twice", ipc.Address.String())
			}
			seen[ipc.Address.String()] = true
		}
	}
	rules := e.natRules(iptables.ProtocolIPv4)
	if got := strings.Count(rules, "-j "+masqChain(network)); got != n {
		t.Errorf("%d jump rules, want %d:\n%s", got, n, rules)
	}
	all("DEL")
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		if rules := e.natRules(proto); strings.Contains(rules, "llcr") || strings.Contains(rules, "LLCR") {
			t.Errorf("rules left after parallel DEL:\n%s", rules)
		}
	}
	if got := e.leases(network); len(got) != 0 {
		t.Errorf("leases left: %v", got)
	}
}

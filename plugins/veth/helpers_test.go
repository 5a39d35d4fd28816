package veth

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// binDir holds the plugins the tests exec: host-local (the IPAM delegate)
// and, for the binary-driven tests, llcr-veth and cnitool.
var binDir string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping llcr-veth tests: they need root to create network namespaces")
		os.Exit(0)
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "llcr-veth-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	defer cleanNetnsDir()()
	out, err := exec.Command("go", "build", "-o", dir+"/",
		"github.com/containernetworking/plugins/plugins/ipam/host-local",
		"github.com/containernetworking/cni/cnitool",
		"llcr/cmd/llcr-veth").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build test plugins: %v\n%s", err, out)
		return 1
	}
	// testutils.Cmd* set CNI_PATH from PATH.
	os.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	// Keep lock files out of /run.
	os.Setenv(lockDirEnv, filepath.Join(dir, "locks"))
	return m.Run()
}

// cleanNetnsDir returns a func that undoes what testutils.NewNS does to the
// host beyond the netns it pins: it creates /run/netns and bind-mounts it
// on itself. Only an empty directory we brought into being is removed, so
// namespaces others pinned there meanwhile survive.
func cleanNetnsDir() func() {
	const dir = "/run/netns"
	if _, err := os.Stat(dir); err == nil {
		return func() {}
	}
	return func() {
		if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
			return
		}
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		_ = os.Remove(dir)
	}
}

// env is one test's world: a private "host" network namespace in which the
// plugin runs, so bridges, rules and sysctls it touches die with the test
// and no packet reaches the real host, plus host-local's data directory.
type env struct {
	t       *testing.T
	host    ns.NetNS
	dataDir string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	host := newNS(t)
	return &env{t: t, host: host, dataDir: t.TempDir()}
}

func newNS(t *testing.T) ns.NetNS {
	t.Helper()
	n, err := testutils.NewNS()
	if err != nil {
		t.Fatalf("create netns: %v", err)
	}
	t.Cleanup(func() { closeNS(n) })
	return n
}

// closeNS may run twice (tests that delete a netns early); the second time
// finds nothing to do.
func closeNS(n ns.NetNS) {
	_ = n.Close()
	_ = testutils.UnmountNS(n)
}

var seq atomic.Int32

// uniq returns a short name unique within this test binary.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, seq.Add(1))
}

// config renders a network config. subnets become one host-local range
// set each (so an IPv4 and an IPv6 subnet give a dual-stack network).
func (e *env) config(version, network string, fields map[string]any, subnets ...string) map[string]any {
	var ranges [][]map[string]string
	for _, s := range subnets {
		ranges = append(ranges, []map[string]string{{"subnet": s}})
	}
	c := map[string]any{
		"cniVersion": version,
		"name":       network,
		"type":       "llcr-veth",
		"ipam":       map[string]any{"type": "host-local", "dataDir": e.dataDir, "ranges": ranges},
	}
	for k, v := range fields {
		c[k] = v
	}
	return c
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// attachment is one ADDed container interface.
type attachment struct {
	args   *skel.CmdArgs
	conf   map[string]any
	netns  ns.NetNS
	raw    []byte
	result *current.Result
}

func (e *env) inHost(f func() error) error {
	return e.host.Do(func(ns.NetNS) error { return f() })
}

// add creates a container netns and attaches it.
func (e *env) add(conf map[string]any) *attachment {
	e.t.Helper()
	a, err := e.tryAdd(conf, newNS(e.t))
	if err != nil {
		e.t.Fatalf("ADD: %v", err)
	}
	return a
}

func (e *env) tryAdd(conf map[string]any, netns ns.NetNS) (*attachment, error) {
	e.t.Helper()
	a := &attachment{conf: conf, netns: netns, args: &skel.CmdArgs{
		ContainerID: uniq("ctr-"),
		Netns:       netns.Path(),
		IfName:      "eth0",
		StdinData:   mustJSON(e.t, conf),
	}}
	err := e.inHost(func() error {
		r, raw, err := testutils.CmdAddWithArgs(a.args, func() error { return CmdAdd(a.args) })
		if err != nil {
			return err
		}
		a.raw = raw
		a.result, err = current.NewResultFromResult(r)
		return err
	})
	return a, err
}

func (e *env) del(a *attachment) error {
	return e.inHost(func() error {
		return testutils.CmdDelWithArgs(a.args, func() error { return CmdDel(a.args) })
	})
}

func (e *env) check(a *attachment) error {
	e.t.Helper()
	var prev map[string]any
	if err := json.Unmarshal(a.raw, &prev); err != nil {
		e.t.Fatal(err)
	}
	conf := map[string]any{}
	for k, v := range a.conf {
		conf[k] = v
	}
	conf["prevResult"] = prev
	args := *a.args
	args.StdinData = mustJSON(e.t, conf)
	return e.inHost(func() error {
		return testutils.CmdCheckWithArgs(&args, func() error { return CmdCheck(&args) })
	})
}

// gc runs GC in the host with the given attachments still valid.
func (e *env) gc(conf map[string]any, valid ...*attachment) error {
	c := map[string]any{}
	for k, v := range conf {
		c[k] = v
	}
	var list []types.GCAttachment
	for _, a := range valid {
		list = append(list, types.GCAttachment{ContainerID: a.args.ContainerID, IfName: a.args.IfName})
	}
	c["cni.dev/valid-attachments"] = list
	args := &skel.CmdArgs{StdinData: mustJSON(e.t, c)}
	return e.inHost(func() error {
		withCNIEnv(e.t, "GC")
		return CmdGC(args)
	})
}

func (e *env) status(conf map[string]any) error {
	args := &skel.CmdArgs{StdinData: mustJSON(e.t, conf)}
	return e.inHost(func() error {
		return testutils.CmdStatus(func() error { return CmdStatus(args) })
	})
}

// withCNIEnv sets what the IPAM delegate needs for verbs testutils has no
// helper for.
func withCNIEnv(t *testing.T, cmd string) {
	t.Setenv("CNI_COMMAND", cmd)
	t.Setenv("CNI_PATH", binDir)
}

// leases lists host-local's reservations for network.
func (e *env) leases(network string) []string {
	entries, _ := os.ReadDir(filepath.Join(e.dataDir, network))
	var out []string
	for _, ent := range entries {
		if net.ParseIP(ent.Name()) != nil {
			out = append(out, ent.Name())
		}
	}
	return out
}

// hostLink looks a link up in the test's host netns; nil if absent.
func (e *env) hostLink(name string) netlink.Link {
	var l netlink.Link
	_ = e.inHost(func() error {
		l, _ = netlink.LinkByName(name)
		return nil
	})
	return l
}

// natRules is `iptables -t nat -S` (all chains) of the test host, per family.
func (e *env) natRules(proto iptables.Protocol) string {
	e.t.Helper()
	var out []string
	err := e.inHost(func() error {
		ipt, err := iptables.NewWithProtocol(proto)
		if err != nil {
			return err
		}
		chains, err := ipt.ListChains("nat")
		if err != nil {
			return err
		}
		for _, c := range chains {
			rules, err := ipt.List("nat", c)
			if err != nil {
				return err
			}
			out = append(out, rules...)
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("list nat rules: %v", err)
	}
	return strings.Join(out, "\n")
}

// containerAddrs lists the global addresses on ifName inside netns.
func containerAddrs(t *testing.T, netns ns.NetNS, ifName string) []string {
	t.Helper()
	var out []string
	err := netns.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName(ifName)
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.IsGlobalUnicast() {
				out = append(out, a.IPNet.String())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list addresses in %s: %v", netns.Path(), err)
	}
	return out
}

// reach checks that a TCP connection from `from` reaches a listener on
// addr inside `to`; TCP needs no raw sockets and proves both directions.
func reach(t *testing.T, from, to ns.NetNS, ip net.IP) {
	t.Helper()
	addr := net.JoinHostPort(ip.String(), "4242")
	var ln net.Listener
	if err := to.Do(func(ns.NetNS) error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hi"))
			c.Close()
		}
	}()
	err := from.Do(func(ns.NetNS) error {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 2)
		_, err = c.Read(buf)
		return err
	})
	if err != nil {
		t.Fatalf("connect from %s to %s: %v", from.Path(), addr, err)
	}
}

func firstIP(t *testing.T, r *current.Result, v6 bool) net.IP {
	t.Helper()
	for _, ipc := range r.IPs {
		if (ipc.Address.IP.To4() == nil) == v6 {
			return ipc.Address.IP
		}
	}
	t.Fatalf("result has no IPv6=%v address: %+v", v6, r)
	return nil
}

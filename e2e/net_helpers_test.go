package e2e

// Helpers for the TestNet* tests: a leftover check for what networking
// leaves on the host, temporary networks, and reading `container inspect`.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// netEnv is newEnv plus a check, at the end of the test, that networking
// left nothing per container behind: pins, veths, leases, cached results,
// netfilter rules. Registered after newEnv's check, it runs before it.
func netEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	t.Cleanup(func() {
		var problems []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			problems = netLeftovers()
			if len(problems) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(problems) > 0 {
			t.Errorf("network left behind:\n  %s", strings.Join(problems, "\n  "))
		}
	})
	return e
}

// perContainerRule matches netfilter lines that belong to one container:
// llcr-veth's tagged masquerade jumps, portmap's per-container DNAT chains
// and the reference bridge plugin's per-container masquerade chains.
var perContainerRule = regexp.MustCompile(`llcr-veth:[^ ]+/|CNI-DN-|CNI-[0-9a-f]{24}`)

func netLeftovers() []string {
	var p []string
	pins, _ := filepath.Glob("/run/llcr/netns/*")
	for _, f := range pins {
		p = append(p, "netns pin "+f)
	}
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		n := l.Name()
		if n == "lo" || n == "eth0" || strings.HasPrefix(n, "ifb") {
			continue
		}
		if _, err := os.Stat(filepath.Join("/sys/class/net", n, "bridge")); err == nil {
			continue
		}
		p = append(p, "link "+n)
	}
	leases, _ := filepath.Glob("/var/lib/cni/networks/*/[0-9]*")
	for _, f := range leases {
		p = append(p, "lease "+f)
	}
	cache, _ := filepath.Glob("/var/lib/llcr/cni/results/*")
	for _, f := range cache {
		p = append(p, "cached result "+f)
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"nat", "filter"} {
			out, _ := exec.Command(tool, "-w", "-t", table, "-S").Output()
			for _, line := range strings.Split(string(out), "\n") {
				if perContainerRule.MatchString(line) {
					p = append(p, fmt.Sprintf("%s -t %s: %s", tool, table, line))
				}
			}
		}
	}
	return p
}

// netDir is a temporary --network-config-dir whose networks' bridges are
// deleted at the end of the test (after the containers, registered later,
// are gone).
type netDir struct {
	e   *env
	dir string
}

func (e *env) netDir() *netDir {
	e.t.Helper()
	d := &netDir{e: e, dir: e.t.TempDir()}
	e.t.Cleanup(func() {
		nets, _ := filepath.Glob(filepath.Join(d.dir, "*.conflist"))
		for _, f := range nets {
			b, _ := os.ReadFile(f)
			var c struct {
				Name    string `json:"name"`
				Plugins []struct {
					Bridge string `json:"bridge"`
				} `json:"plugins"`
			}
			if json.Unmarshal(b, &c) != nil {
				continue
			}
			e.run("network", "--network-config-dir", d.dir, "rm", c.Name)
			for _, pl := range c.Plugins {
				if pl.Bridge != "" && pl.Bridge != "llcr0" {
					exec.Command("ip", "link", "del", pl.Bridge).Run()
				}
			}
			os.RemoveAll(filepath.Join("/var/lib/cni/networks", c.Name))
		}
	})
	return d
}

// create runs `network create` in the directory.
func (d *netDir) create(name string, flags ...string) {
	d.e.t.Helper()
	args := append([]string{"network", "--network-config-dir", d.dir, "create", name}, flags...)
	d.e.ok(d.e.run(args...))
}

// flags are the run flags that select this directory.
func (d *netDir) flags(more ...string) []string {
	return append([]string{"--network-config-dir", d.dir}, more...)
}

// freeSubnets returns n 10.99.x.0/24 subnets that overlap no host route or
// address, so test networks never shadow a network the host reaches.
func freeSubnets(t *testing.T, n int) []string {
	t.Helper()
	var taken []netip.Prefix
	for _, args := range [][]string{{"-4", "route", "show", "table", "all"}, {"-4", "addr"}} {
		out, _ := exec.Command("ip", args...).Output()
		for _, f := range strings.Fields(string(out)) {
			if p, err := netip.ParsePrefix(f); err == nil {
				taken = append(taken, p.Masked())
			}
		}
	}
	var out []string
	for i := 10; i < 250 && len(out) < n; i++ {
		c := netip.MustParsePrefix(fmt.Sprintf("10.99.%d.0/24", i))
		ok := true
		for _, p := range taken {
			if p.Bits() > 0 && p.Overlaps(c) {
				ok = false
			}
		}
		if ok {
			out = append(out, c.String())
		}
	}
	if len(out) < n {
		t.Fatalf("no %d free 10.99.x.0/24 subnets", n)
	}
	return out
}

// netAttachment is one entry of `container inspect`'s networks.
type netAttachment struct {
	Network  string   `json:"network"`
	IfName   string   `json:"ifname"`
	MAC      string   `json:"mac"`
	IPs      []string `json:"ips"`
	Gateways []string `json:"gateways"`
	Ports    []struct {
		HostIP        string `json:"hostIP"`
		HostPort      int    `json:"hostPort"`
		ContainerPort int    `json:"containerPort"`
		Protocol      string `json:"protocol"`
	} `json:"ports"`
}

type netInspect struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Pid      int             `json:"pid"`
	NetNS    string          `json:"netns"`
	Networks []netAttachment `json:"networks"`
}

func (e *env) inspect(id string) netInspect {
	e.t.Helper()
	out := e.ok(e.run("inspect", id))
	var v []netInspect
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		e.t.Fatalf("decode `inspect %s` (%v):\n%s", id, err, out)
	}
	return v[0]
}

// addr is the address of an attachment's first IP, without the prefix.
func (a netAttachment) addr(t *testing.T) string {
	t.Helper()
	if len(a.IPs) == 0 {
		t.Fatalf("attachment %+v has no IP", a)
	}
	p, err := netip.ParsePrefix(a.IPs[0])
	if err != nil {
		t.Fatalf("attachment IP %q: %v", a.IPs[0], err)
	}
	return p.Addr().String()
}

// netDetach starts a detached networked container running script; it is
// deleted at the end of the test.
func (e *env) netDetach(id, script string, flags ...string) {
	e.t.Helper()
	r := e.detach(id, script, flags...)
	if r.code != 0 {
		e.t.Fatalf("start %s: %s", id, r)
	}
}

// serveHostname is a script serving /etc on port 80 with busybox httpd, so
// GET /hostname answers with the container's hostname.
const serveHostname = "exec httpd -f -p 80 -h /etc"

// hostGet fetches url from the host, never through a proxy (only
// loopback or the host's own addresses are ever used).
func hostGet(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runEnv is e.run with extra environment variables for the runtime.
func (e *env) runEnv(extra []string, args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	c.Env = append(os.Environ(), extra...)
	return e.runCmd(c)
}

// hostAddr is the host's eth0 IPv4 address ("" without one): connecting
// to it is local delivery, the traffic never leaves the machine.
func hostAddr() string {
	out, _ := exec.Command("ip", "-4", "-o", "addr", "show", "dev", "eth0").Output()
	f := strings.Fields(string(out))
	for i, w := range f {
		if w == "inet" && i+1 < len(f) {
			if p, err := netip.ParsePrefix(f[i+1]); err == nil {
				return p.Addr().String()
			}
		}
	}
	return ""
}

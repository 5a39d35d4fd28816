package e2e

// Networking end to end: real CNI plugins on the real kernel. Traffic only
// ever goes between namespaces these tests create, and to the host's own
// addresses (local delivery); no test does a DNS lookup.

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Two containers on the default network: ping and TCP between them, the
// gateway, a published port from the host (loopback and a host address),
// list and inspect, then kill+delete and delete -f tear the networks down.
func TestNetDefaultTraffic(t *testing.T) {
	e := netEnv(t)
	port := freePort(t)
	e.netDetach("netweb", serveHostname, "--network", "default", "--hostname", "netweb",
		"-p", fmt.Sprintf("%d:80", port))
	web := e.inspect("netweb")
	if len(web.Networks) != 1 {
		t.Fatalf("inspect networks = %+v, want one", web.Networks)
	}
	a := web.Networks[0]
	if a.Network != "default" || a.IfName != "eth0" || a.MAC == "" || len(a.Gateways) != 1 {
		t.Errorf("attachment = %+v, want default/eth0 with a MAC and a gateway", a)
	}
	if len(a.Ports) != 1 || a.Ports[0].HostPort != port || a.Ports[0].ContainerPort != 80 || a.Ports[0].Protocol != "tcp" {
		t.Errorf("ports = %+v, want %d->80/tcp", a.Ports, port)
	}
	if web.NetNS == "" {
		t.Errorf("inspect of a running networked container has no netns")
	}
	ip, gw := a.addr(t), a.Gateways[0]

	loop := fmt.Sprintf("http://127.0.0.1:%d/hostname", port)
	waitFor(t, "the published port to answer", func() bool {
		out, err := hostGet(loop)
		return err == nil && out == "netweb\n"
	})
	for _, host := range []string{gw, hostAddr()} {
		if host == "" {
			continue
		}
		url := fmt.Sprintf("http://%s/hostname", net.JoinHostPort(host, fmt.Sprint(port)))
		if out, err := hostGet(url); err != nil || out != "netweb\n" {
			t.Errorf("GET %s = %q, %v; want netweb", url, out, err)
		}
	}

	out := e.ok(e.sh(fmt.Sprintf("ping -c 1 -W 5 %s >/dev/null && echo PING-GW; ping -c 1 -W 5 %s >/dev/null && echo PING-PEER; wget -q -O - http://%s/hostname", gw, ip, ip),
		"--network", "default"))
	for _, want := range []string{"PING-GW", "PING-PEER", "netweb"} {
		if !strings.Contains(out, want) {
			t.Errorf("client output %q lacks %s", out, want)
		}
	}

	list := e.ok(e.run("list"))
	row := ""
	for _, l := range strings.Split(list, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "netweb" {
			row = l
		}
	}
	if !strings.HasPrefix(list, "ID") || !strings.Contains(list, "IPS") || !strings.Contains(list, "PORTS") ||
		!strings.Contains(row, ip) || !strings.Contains(row, fmt.Sprintf("%d->80/tcp", port)) {
		t.Errorf("list does not show netweb's IP %s and port %d:\n%s", ip, port, list)
	}

	// kill + delete: the monitor tears the network down when it exits.
	e.netDetach("netkilled", "exec sleep 600", "--network", "default")
	k := e.inspect("netkilled")
	e.ok(e.run("kill", "netkilled", "KILL"))
	e.waitStatus("netkilled", "stopped")
	waitFor(t, "netkilled's netns pin to go", func() bool { return !exists(k.NetNS) })
	e.ok(e.run("delete", "netkilled"))

	// delete -f of a running one.
	e.ok(e.run("delete", "-f", "netweb"))
	if exists(web.NetNS) {
		t.Errorf("netns pin %s survived delete -f", web.NetNS)
	}
	if lease := filepath.Join("/var/lib/cni/networks/default", ip); exists(lease) {
		t.Errorf("lease %s survived delete -f", lease)
	}
	if _, err := hostGet(loop); err == nil {
		t.Errorf("published port %d still answers after delete -f", port)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Two created networks are isolated from each other; a container on both
// gets eth0 and eth1 in order and reaches both gateways and the peer.
func TestNetIsolationAndTwoNetworks(t *testing.T) {
	e := netEnv(t)
	d := e.netDir()
	subs := freeSubnets(t, 2)
	d.create("llcrt-a", "--subnet", subs[0])
	d.create("llcrt-b", "--subnet", subs[1])

	e.netDetach("netb", "exec sleep 600", d.flags("--network", "llcrt-b")...)
	b := e.inspect("netb").Networks[0]
	bIP, gwB := b.addr(t), b.Gateways[0]
	if !netip.MustParsePrefix(subs[1]).Contains(netip.MustParseAddr(bIP)) {
		t.Fatalf("netb got %s, outside llcrt-b's %s", bIP, subs[1])
	}
	gwA := netip.MustParsePrefix(subs[0]).Addr().Next().String()

	out := e.ok(e.sh(fmt.Sprintf("ping -c 1 -W 5 %s >/dev/null && echo GW-OK; ping -c 1 -W 2 %s >/dev/null && echo CROSSED || echo ISOLATED", gwA, bIP),
		d.flags("--network", "llcrt-a")...))
	if !strings.Contains(out, "GW-OK") || !strings.Contains(out, "ISOLATED") {
		t.Errorf("container on llcrt-a: %q; want its gateway reachable and %s (llcrt-b) not", out, bIP)
	}

	script := fmt.Sprintf("ip -o -4 addr show eth0; ip -o -4 addr show eth1; ping -c 1 -W 5 %s >/dev/null && echo GWA-OK; ping -c 1 -W 5 %s >/dev/null && echo GWB-OK; ping -c 1 -W 5 %s >/dev/null && echo PEER-OK", gwA, gwB, bIP)
	out = e.ok(e.sh(script, d.flags("--network", "llcrt-a", "--network", "llcrt-b")...))
	ls := lines(out)
	if len(ls) < 2 || !strings.Contains(ls[0], "eth0") || !strings.Contains(ls[0], strings.TrimSuffix(subs[0], "0/24")) ||
		!strings.Contains(ls[1], "eth1") || !strings.Contains(ls[1], strings.TrimSuffix(subs[1], "0/24")) {
		t.Errorf("want eth0 on %s and eth1 on %s, got:\n%s", subs[0], subs[1], out)
	}
	for _, w := range []string{"GWA-OK", "GWB-OK", "PEER-OK"} {
		if !strings.Contains(out, w) {
			t.Errorf("two-network container: %s missing from %q", w, out)
		}
	}

	// A network in use cannot be removed; once free it can, with its bridge.
	failsWith(t, e.run("network", "--network-config-dir", d.dir, "rm", "llcrt-b"), "llcrt-b", "in use", "netb")
	e.ok(e.run("delete", "-f", "netb"))
	e.ok(e.run("network", "--network-config-dir", d.dir, "rm", "llcrt-b"))
	if exists("/sys/class/net/llcr-llcrt-b") {
		t.Errorf("bridge llcr-llcrt-b survived network rm")
	}
}

// --ip through the ips capability, --mac through the mac capability.
func TestNetStaticIPAndMAC(t *testing.T) {
	e := netEnv(t)
	out := e.ok(e.run("network", "inspect", "default"))
	var subnet netip.Prefix
	for _, f := range strings.Fields(out) {
		if p, err := netip.ParsePrefix(strings.Trim(f, `",`)); err == nil && p.Addr().Is4() {
			subnet = p
			break
		}
	}
	if !subnet.IsValid() {
		t.Fatalf("no IPv4 subnet in `network inspect default`:\n%s", out)
	}
	b := subnet.Addr().As4()
	b[3] = 233
	ip := netip.AddrFrom4(b).String()
	const mac = "02:42:0a:00:00:e9"
	got := e.ok(e.sh("ip -o -4 addr show eth0; cat /sys/class/net/eth0/address",
		"--network", "default", "--ip", ip, "--mac", mac))
	if !strings.Contains(got, " "+ip+"/") || !strings.Contains(got, mac) {
		t.Errorf("want eth0 with %s and MAC %s, got:\n%s", ip, mac, got)
	}
}

// A hand-written conflist with the reference bridge plugin and host-local.
func TestNetReferenceBridge(t *testing.T) {
	e := netEnv(t)
	d := e.netDir()
	sub := freeSubnets(t, 1)[0]
	conf := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "llcrt-ref",
  "plugins": [
    {"type": "bridge", "bridge": "llcrtref0", "isGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
  ]
}`, sub)
	if err := os.WriteFile(filepath.Join(d.dir, "llcrt-ref.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	gw := netip.MustParsePrefix(sub).Addr().Next().String()
	out := e.ok(e.sh(fmt.Sprintf("ip -o -4 addr show eth0; ping -c 1 -W 5 %s >/dev/null && echo GW-OK", gw),
		d.flags("--network", "llcrt-ref")...))
	if !strings.Contains(out, strings.TrimSuffix(sub, "0/24")) || !strings.Contains(out, "GW-OK") {
		t.Errorf("reference bridge network: %q", out)
	}
}

// /etc/hosts names the container's addresses; resolv.conf has --dns or the
// host's non-loopback resolvers.
func TestNetEtcFiles(t *testing.T) {
	e := netEnv(t)
	out := e.ok(e.sh("ip -o -4 addr show eth0; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf",
		"--network", "default", "--hostname", "nethost", "--dns", "192.0.2.53", "--dns", "2001:db8::53"))
	parts := strings.Split(out, "---\n")
	if len(parts) != 3 {
		t.Fatalf("output: %q", out)
	}
	f := strings.Fields(parts[0])
	var ip string
	for i, w := range f {
		if w == "inet" && i+1 < len(f) {
			ip = strings.Split(f[i+1], "/")[0]
		}
	}
	if !strings.Contains(parts[1], ip+"\tnethost") || !strings.Contains(parts[1], "127.0.0.1\tlocalhost") {
		t.Errorf("/etc/hosts lacks %s nethost or localhost:\n%s", ip, parts[1])
	}
	if strings.TrimSpace(parts[2]) != "nameserver 192.0.2.53\nnameserver 2001:db8::53" {
		t.Errorf("resolv.conf with --dns = %q", parts[2])
	}

	got := e.ok(e.sh("cat /etc/resolv.conf", "--network", "default"))
	host, _ := os.ReadFile("/etc/resolv.conf")
	for _, l := range strings.Split(string(host), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if a.IsLoopback() == strings.Contains(got, l) {
			t.Errorf("host resolver line %q: loopback %v, in container resolv.conf %v:\n%s", l, a.IsLoopback(), !a.IsLoopback(), got)
		}
	}
}

// Failures exit 125 with one clear line and leave nothing behind.
func TestNetErrors(t *testing.T) {
	e := netEnv(t)
	d := e.netDir()

	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		r := e.sh("true", "--network", "default", "-p", fmt.Sprintf("%d:80", port))
		failsWith(t, r, fmt.Sprint(port), "in use")
	})

	t.Run("exhausted pool", func(t *testing.T) {
		sub := netip.MustParsePrefix(freeSubnets(t, 1)[0])
		tiny := netip.PrefixFrom(sub.Addr(), 30).String()
		d.create("llcrt-tiny", "--subnet", tiny)
		e.netDetach("nettiny", "exec sleep 600", d.flags("--network", "llcrt-tiny")...)
		r := e.sh("true", d.flags("--network", "llcrt-tiny")...)
		failsWith(t, r, `"llcrt-tiny"`, "llcr-veth", "host-local", "no IP addresses available")
		e.ok(e.run("delete", "-f", "nettiny"))
	})

	t.Run("bad JSON", func(t *testing.T) {
		os.WriteFile(filepath.Join(d.dir, "llcrt-bad.conflist"), []byte("{\n  \"cniVersion\": \"1.1.0\",\n  \"name\": \"llcrt-bad\",\n  \"plugins\": [ {\n"), 0o644)
		defer os.Remove(filepath.Join(d.dir, "llcrt-bad.conflist"))
		failsWith(t, e.sh("true", d.flags("--network", "llcrt-bad")...), "llcrt-bad.conflist", "invalid JSON", "line")
	})

	t.Run("bad field", func(t *testing.T) {
		os.WriteFile(filepath.Join(d.dir, "llcrt-field.conflist"), []byte(`{"cniVersion":"1.1.0","name":"llcrt-field","plugins":[{"type":"llcr-veth","mtu":"big","ipam":{"type":"host-local"}}]}`), 0o644)
		defer os.Remove(filepath.Join(d.dir, "llcrt-field.conflist"))
		failsWith(t, e.sh("true", d.flags("--network", "llcrt-field")...), "llcrt-field.conflist", "plugins[0].mtu")
	})

	t.Run("unknown plugin type", func(t *testing.T) {
		os.WriteFile(filepath.Join(d.dir, "llcrt-unknown.conflist"), []byte(`{"cniVersion":"1.1.0","name":"llcrt-unknown","plugins":[{"type":"llcr-no-such-plugin"}]}`), 0o644)
		defer os.Remove(filepath.Join(d.dir, "llcrt-unknown.conflist"))
		failsWith(t, e.sh("true", d.flags("--network", "llcrt-unknown")...), `"llcrt-unknown"`, `"llcr-no-such-plugin" not found`)
	})

	t.Run("missing plugin binary", func(t *testing.T) {
		// A plugin path with the default network's plugins but portmap,
		// which a published port needs (without one it is skipped).
		dir := t.TempDir()
		for _, p := range []string{"llcr-veth", "host-local"} {
			if err := os.Symlink(filepath.Join(filepath.Dir(bin), "cni", p), filepath.Join(dir, p)); err != nil {
				t.Fatal(err)
			}
		}
		r := e.runEnv([]string{"CNI_PATH=" + dir}, "--rootfs", rootfs, "--network", "default", "-p", "18099:80", "--", "true")
		failsWith(t, r, `"default"`, `"portmap" not found`)
	})

	t.Run("unknown network", func(t *testing.T) {
		failsWith(t, e.sh("true", d.flags("--network", "llcrt-nonesuch")...), `"llcrt-nonesuch" not found`)
	})
	if ents, _ := os.ReadDir(e.root); len(ents) > 0 {
		t.Errorf("failed starts left state: %v", ents)
	}
}

// A SIGKILLed runtime leaves its container and network; `container gc`
// removes both.
func TestNetGCAfterRuntimeKilled(t *testing.T) {
	e := netEnv(t)
	// Output to a file, not a pipe: the orphan keeps its stdio open, and
	// waiting for the killed runtime would wait for a pipe's end.
	c := e.cmd("--rootfs", rootfs, "--network", "default", "--name", "netorphan", "--", "sleep", "600")
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	c.Stdout, c.Stderr = out, out
	b := e.startCmd(c)
	// If the test fails before gc, the orphan must not outlive it.
	t.Cleanup(func() { e.run("delete", "-f", "netorphan") })
	pid := e.containerPid("netorphan")
	ins := e.inspect("netorphan")
	ip := ins.Networks[0].addr(t)
	sigkill(t, b.cmd.Process.Pid)
	b.wait()
	if !running(pid) {
		t.Fatalf("the container died with its runtime; the test needs an orphan")
	}
	if out := e.ok(e.run("gc")); !strings.Contains(out, "netorphan") {
		t.Errorf("gc output %q does not mention netorphan", out)
	}
	waitDead(t, pid)
	for _, p := range []string{ins.NetNS, ins.NetNS + ".owner", filepath.Join("/var/lib/cni/networks/default", ip), filepath.Join(e.root, "netorphan")} {
		if exists(p) {
			t.Errorf("%s survived gc", p)
		}
	}
	// Nothing left: a second gc has nothing to do.
	if out := e.ok(e.run("gc")); strings.Contains(out, "netorphan") {
		t.Errorf("second gc reaped again: %q", out)
	}
}

// 20 detached containers started at once on one network get distinct
// addresses, and each pings a peer.
func TestNetParallel(t *testing.T) {
	const n = 20
	e := netEnv(t)
	d := e.netDir()
	d.create("llcrt-par", "--subnet", freeSubnets(t, 1)[0])
	peerDirs := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		peerDirs[i] = t.TempDir()
		id := fmt.Sprintf("netpar%d", i)
		t.Cleanup(func() { e.run("delete", "-f", id) })
		script := "for i in $(seq 200); do [ -s /peer/ip ] && break; sleep 0.1; done; ping -c 1 -W 5 $(cat /peer/ip) >/dev/null && echo PEER-OK; exec sleep 600"
		args := append([]string{"--rootfs", rootfs, "-d", "--name", id, "-v", peerDirs[i] + ":/peer:ro"}, d.flags("--network", "llcrt-par", "--", "/bin/sh", "-c", script)...)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if out, err := e.cmd(args...).CombinedOutput(); err != nil {
				errs[i] = fmt.Sprintf("%v: %s", err, out)
			}
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != "" {
			t.Fatalf("start netpar%d: %s", i, err)
		}
	}
	ips := make([]string, n)
	seen := map[string]string{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("netpar%d", i)
		ips[i] = e.inspect(id).Networks[0].addr(t)
		if other, dup := seen[ips[i]]; dup {
			t.Errorf("%s and %s both got %s", other, id, ips[i])
		}
		seen[ips[i]] = id
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(peerDirs[i], "ip"), []byte(ips[(i+1)%n]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		e.waitLog(fmt.Sprintf("netpar%d", i), "PEER-OK")
	}
}

// network ls/create/inspect/rm, and their errors.
func TestNetNetworkCommands(t *testing.T) {
	e := netEnv(t)
	d := e.netDir()
	subs := freeSubnets(t, 2)
	gw := netip.MustParsePrefix(subs[0]).Addr().Next().Next().String()
	d.create("llcrt-cmd", "--subnet", subs[0], "--gateway", gw, "--ipv6-subnet", "fd99:1::/64")
	ls := e.ok(e.run("network", "--network-config-dir", d.dir, "ls"))
	if !strings.Contains(ls, "llcrt-cmd") || !strings.Contains(ls, subs[0]) || !strings.Contains(ls, "fd99:1::/64") {
		t.Errorf("network ls:\n%s", ls)
	}
	ins := e.ok(e.run("network", "--network-config-dir", d.dir, "inspect", "llcrt-cmd"))
	for _, w := range []string{`"name": "llcrt-cmd"`, subs[0], gw, `"mac": true`, `"bridge": "llcr-llcrt-cmd"`} {
		if !strings.Contains(ins, w) {
			t.Errorf("network inspect lacks %s:\n%s", w, ins)
		}
	}
	failsWith(t, e.run("network", "--network-config-dir", d.dir, "create", "llcrt-cmd", "--subnet", subs[1]), "already exists")
	failsWith(t, e.run("network", "--network-config-dir", d.dir, "create", "llcrt-over", "--subnet", subs[0]), "overlaps")
	failsWith(t, e.run("network", "--network-config-dir", d.dir, "create", "llcrt-gw", "--subnet", subs[1], "--gateway", "10.1.2.3"), "outside")
	// A container on it gets the explicit gateway.
	out := e.ok(e.sh("ip route show default", d.flags("--network", "llcrt-cmd")...))
	if !strings.Contains(out, "via "+gw) {
		t.Errorf("default route %q is not via %s", out, gw)
	}
	e.ok(e.run("network", "--network-config-dir", d.dir, "rm", "llcrt-cmd"))
	if ls := e.ok(e.run("network", "--network-config-dir", d.dir, "ls")); strings.Contains(ls, "llcrt-cmd") {
		t.Errorf("network rm left it listed:\n%s", ls)
	}
	failsWith(t, e.run("network", "--network-config-dir", d.dir, "rm", "llcrt-cmd"), "llcrt-cmd")
	failsWith(t, e.run("network", "--network-config-dir", d.dir, "inspect", "llcrt-cmd"), "not found")
}

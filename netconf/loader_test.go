package netconf

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRoutes makes the subnets chosen for default and created networks
// independent of the machine running the tests.
func fakeRoutes(t *testing.T, routes ...string) {
	t.Helper()
	old := hostRoutes
	t.Cleanup(func() { hostRoutes = old })
	var ps []netip.Prefix
	for _, r := range routes {
		ps = append(ps, netip.MustParsePrefix(r))
	}
	hostRoutes = func() ([]netip.Prefix, error) { return ps, nil }
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func conflist(name, subnet, bridge string) string {
	return `{"cniVersion":"1.1.0","name":"` + name + `","plugins":[{"type":"bridge","bridge":"` + bridge +
		`","ipam":{"type":"host-local","ranges":[[{"subnet":"` + subnet + `"}]]}}]}`
}

func testLoader(t *testing.T) (Loader, string, string) {
	own, other := filepath.Join(t.TempDir(), "llcr"), filepath.Join(t.TempDir(), "cni")
	return Loader{Dirs: []string{own, other}, WriteDir: own}, own, other
}

func TestDefaultLoader(t *testing.T) {
	l := DefaultLoader("")
	if len(l.Dirs) != 2 || l.Dirs[0] != LlcrConfigDir || l.Dirs[1] != CNIConfigDir || l.WriteDir != LlcrConfigDir {
		t.Errorf("DefaultLoader(\"\") = %+v", l)
	}
	l = DefaultLoader("/x")
	if len(l.Dirs) != 1 || l.Dirs[0] != "/x" || l.WriteDir != "/x" {
		t.Errorf("DefaultLoader(/x) = %+v", l)
	}
}

// The default network is written on first use with a subnet that avoids
// both the host's routes and the other networks, and reused afterwards.
func TestGetWritesDefault(t *testing.T) {
	fakeRoutes(t, "10.89.0.0/16", "172.30.0.0/24")
	l, own, other := testLoader(t)
	writeFile(t, filepath.Join(other, "a.conflist"), conflist("a", "172.30.1.0/24", "bra"))

	n, err := l.Get("default")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(own, "default.conflist")
	if n.File != path || n.Name != "default" {
		t.Errorf("got %q from %q", n.Name, n.File)
	}
	if got := Subnets(n); len(got) != 1 || got[0].String() != "172.30.2.0/24" {
		t.Errorf("default subnet = %v, want 172.30.2.0/24", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v", st.Mode())
	}
	entries, _ := os.ReadDir(own)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// Later lookups read the file, even if the host's routes changed.
	fakeRoutes(t)
	again, err := l.Get("default")
	if err != nil || Subnets(again)[0] != Subnets(n)[0] {
		t.Errorf("second Get = %v, %v", again, err)
	}

	// Removing the default is allowed; it is rewritten on next use.
	if err := l.Remove("default"); err != nil {
		t.Fatal(err)
	}
	n, err = l.Get("default")
	if err != nil {
		t.Fatal(err)
	}
	if got := Subnets(n); got[0].String() != "10.89.0.0/24" {
		t.Errorf("rewritten default subnet = %v", got)
	}
}

func TestGetPrecedenceAndErrors(t *testing.T) {
	fakeRoutes(t)
	l, own, other := testLoader(t)
	writeFile(t, filepath.Join(own, "a.conflist"), conflist("a", "10.1.0.0/24", "bra"))
	writeFile(t, filepath.Join(other, "a.conflist"), conflist("a", "10.2.0.0/24", "bra2"))
	writeFile(t, filepath.Join(other, "zz-b.conf"), `{"cniVersion":"1.0.0","name":"b","type":"bridge","bridge":"brb"}`)
	writeFile(t, filepath.Join(other, "broken.conflist"), `{"name": "broken",`)
	writeFile(t, filepath.Join(other, "notes.txt"), `not a config`)

	a, err := l.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	if a.File != filepath.Join(own, "a.conflist") {
		t.Errorf("a came from %s, want the first directory", a.File)
	}
	b, err := l.Get("b")
	if err != nil || b.List.Plugins[0].Network.Type != "bridge" {
		t.Fatalf("Get(b) = %v, %v", b, err)
	}

	_, err = l.Get("broken")
	if err == nil || !strings.Contains(err.Error(), "broken.conflist: invalid JSON at line 1") {
		t.Errorf("Get(broken) error = %v", err)
	}
	_, err = l.Get("nope")
	for _, want := range []string{`network "nope" not found`, "available: a, b, default", "container network create nope", "broken.conflist"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Get(nope) error = %v, want it to contain %q", err, want)
		}
	}

	nets, err := l.List()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(other, "broken.conflist")) {
		t.Errorf("List error = %v, want it to name the broken file", err)
	}
	var names []string
	for _, n := range nets {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "a,b" {
		t.Errorf("List = %v", names)
	}
}

func TestCreateListRemove(t *testing.T) {
	fakeRoutes(t, "10.89.0.0/24")
	l, own, other := testLoader(t)
	writeFile(t, filepath.Join(other, "ext.conflist"), conflist("ext", "10.89.1.0/24", "brext"))

	n, err := l.Create("web", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.File != filepath.Join(own, "web.conflist") {
		t.Errorf("file = %s", n.File)
	}
	if got := Subnets(n); len(got) != 1 || got[0].String() != "10.89.2.0/24" {
		t.Errorf("auto subnet = %v", got)
	}
	if bridgeName(n) != "llcr-web" || n.List.Plugins[0].Network.Type != "llcr-veth" || n.List.Plugins[1].Network.Type != "portmap" {
		t.Errorf("unexpected shape: bridge %q, %s", bridgeName(n), n.List.Bytes)
	}

	dual, err := l.Create("a-rather-long-name", CreateOptions{
		Subnet: "192.168.50.0/24", Gateway: "192.168.50.254", IPv6Subnet: "fd00:50::/64", Plugin: "bridge",
	})
	if err != nil {
		t.Fatal(err)
	}
	if bridgeName(dual) != "llcr-a-rather-l" {
		t.Errorf("bridge = %q, want the name cut to 15 characters", bridgeName(dual))
	}
	conf := string(dual.List.Plugins[0].Bytes)
	for _, want := range []string{`"type":"bridge"`, `"gateway":"192.168.50.254"`, `"subnet":"fd00:50::/64"`, `"dst":"::/0"`, `"dst":"0.0.0.0/0"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("plugin config %s lacks %s", conf, want)
		}
	}

	nets, err := l.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 3 || nets[0].Name != "a-rather-long-name" || nets[1].Name != "ext" || nets[2].Name != "web" {
		t.Errorf("List = %v", nets)
	}

	if err := l.Remove("ext"); err == nil || !strings.Contains(err.Error(), "does not manage") {
		t.Errorf("Remove(ext) = %v, want a refusal", err)
	}
	if err := l.Remove("nope"); err == nil {
		t.Error("Remove(nope) succeeded")
	}
	if err := l.Remove("web"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(own, "web.conflist")); !os.IsNotExist(err) {
		t.Errorf("web.conflist still there: %v", err)
	}
	if _, err := l.Get("web"); err == nil {
		t.Error("web still found after Remove")
	}
}

func TestCreateValidation(t *testing.T) {
	fakeRoutes(t)
	l, _, other := testLoader(t)
	writeFile(t, filepath.Join(other, "ext.conflist"), conflist("ext", "10.50.0.0/16", "brext"))
	tests := []struct {
		name string
		o    CreateOptions
		want string
	}{
		{"bad/name", CreateOptions{}, `invalid network name "bad/name"`},
		{"-x", CreateOptions{}, "invalid network name"},
		{"none", CreateOptions{}, "reserved"},
		{"ext", CreateOptions{}, `network "ext" already exists`},
		{"n1", CreateOptions{Subnet: "10.50.3.0/24"}, "overlaps 10.50.0.0/16 of network \"ext\""},
		{"n1", CreateOptions{Subnet: "10.60.0.0/33"}, `invalid subnet "10.60.0.0/33"`},
		{"n1", CreateOptions{Subnet: "10.60.0.1/24"}, "host bits set (did you mean 10.60.0.0/24?)"},
		{"n1", CreateOptions{Subnet: "fd00::/64"}, "wrong address family"},
		{"n1", CreateOptions{Subnet: "10.60.0.0/31"}, "too small"},
		{"n1", CreateOptions{Subnet: "10.60.0.0/24", Gateway: "10.61.0.1"}, "gateway 10.61.0.1 is outside the subnet 10.60.0.0/24"},
		{"n1", CreateOptions{Subnet: "10.60.0.0/24", Gateway: "10.60.0.255"}, "broadcast"},
		{"n1", CreateOptions{Subnet: "10.60.0.0/24", Gateway: "x"}, `invalid gateway "x"`},
		{"n1", CreateOptions{Gateway: "10.60.0.1"}, "needs an explicit subnet"},
		{"n1", CreateOptions{IPv6Subnet: "10.70.0.0/24"}, "wrong address family"},
		{"n1", CreateOptions{Plugin: "macvlan"}, `plugin "macvlan" is not supported`},
		{"n1", CreateOptions{Bridge: "brext"}, `bridge "brext" is already used by network "ext"`},
		{"n1", CreateOptions{Bridge: "llcr0"}, "belongs to the default network"},
		{"n1", CreateOptions{Bridge: "way-too-long-bridge"}, "invalid bridge name"},
	}
	for _, tc := range tests {
		_, err := l.Create(tc.name, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Create(%q, %+v) = %v, want error containing %q", tc.name, tc.o, err, tc.want)
		}
	}
	// None of the refused creates may have left a file behind.
	entries, _ := os.ReadDir(l.WriteDir)
	if len(entries) != 0 {
		t.Errorf("WriteDir not empty: %v", entries)
	}
}

// Default and created networks must not collide with each other either.
func TestCreateAvoidsDefault(t *testing.T) {
	fakeRoutes(t)
	l, _, _ := testLoader(t)
	if _, err := l.Get("default"); err != nil {
		t.Fatal(err)
	}
	n, err := l.Create("second", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := Subnets(n); got[0].String() != "10.89.1.0/24" {
		t.Errorf("subnet = %v", got)
	}
	if _, err := l.Create("third", CreateOptions{Subnet: "10.89.0.128/25"}); err == nil || !strings.Contains(err.Error(), `network "default"`) {
		t.Errorf("overlap with default not refused: %v", err)
	}
}

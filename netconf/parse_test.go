package netconf

import (
	"net/netip"
	"strings"
	"testing"
)

const testFile = "/etc/llcr/net.d/x.conflist"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, conf, want string
	}{
		{"syntax", "{\n  \"name\": \"x\",\n  \"a\": }\n", "x.conflist: invalid JSON at line 3, column 8:"},
		{"truncated", `{"name": "x"`, "x.conflist: invalid JSON at line 1, column 12: unexpected end of input"},
		{"empty", "  \n", "x.conflist: file is empty"},
		{"array", `[]`, "top level must be a JSON object, not an array"},
		{"trailing", `{"name":"x"} {}`, "data after the top-level object"},
		{"no name", `{"cniVersion":"1.1.0","plugins":[{"type":"bridge"}]}`, `x.conflist: missing "name"`},
		{"name type", `{"name":3,"cniVersion":"1.1.0","plugins":[{"type":"bridge"}]}`, "name: must be a string, not a number"},
		{"bad name", `{"name":"a b","cniVersion":"1.1.0","plugins":[{"type":"bridge"}]}`, `name: invalid network name "a b"`},
		{"no version", `{"name":"x","plugins":[{"type":"bridge"}]}`, `missing "cniVersion" (supported: 0.1.0,`},
		{"future version", `{"name":"x","cniVersion":"9.9.9","plugins":[{"type":"bridge"}]}`, `x.conflist: cniVersion "9.9.9" is not supported (supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)`},
		{"only future versions", `{"name":"x","cniVersions":["9.9.9"],"plugins":[{"type":"bridge"}]}`, "cniVersions: none is supported"},
		{"plugins type", `{"name":"x","cniVersion":"1.1.0","plugins":{}}`, "plugins: must be an array, not an object"},
		{"plugins empty", `{"name":"x","cniVersion":"1.1.0","plugins":[]}`, "plugins: the list is empty"},
		{"no plugins", `{"name":"x","cniVersion":"1.1.0"}`, `missing "plugins"`},
		{"plugin not object", `{"name":"x","cniVersion":"1.1.0","plugins":["bridge"]}`, "plugins[0]: must be an object, not a string"},
		{"missing type", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge"},{"snat":true}]}`, `x.conflist: plugins[1]: missing "type"`},
		{"type path", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"../bin/sh"}]}`, `plugins[0].type: invalid plugin type "../bin/sh"`},
		{"capability", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"portmap","capabilities":{"portMappings":"yes"}}]}`, "plugins[0].capabilities.portMappings: must be true or false, not a string"},
		{"ipMasq", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipMasq":"true"}]}`, "plugins[0].ipMasq: must be true or false"},
		{"bridge name", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","bridge":"a-very-long-bridge-name"}]}`, `plugins[0].bridge: invalid interface name "a-very-long-bridge-name"`},
		{"mtu", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","mtu":-1}]}`, "plugins[0].mtu: must be a non-negative integer"},
		{"mode", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"llcr-veth","mode":"macvlan"}]}`, `plugins[0].mode: must be "bridge" or "routed", not macvlan`},
		{"ipam type", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"subnet":"10.0.0.0/24"}}]}`, `plugins[0].ipam: missing "type"`},
		{"cidr", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/33"}]]}}]}`, `x.conflist: plugins[0].ipam.ranges[0][0].subnet: invalid CIDR "10.0.0.0/33"`},
		{"host bits", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.1/24"}]]}}]}`, `plugins[0].ipam.ranges[0][0].subnet: "10.0.0.1/24" has host bits set (did you mean 10.0.0.0/24?)`},
		{"no subnet", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"gateway":"10.0.0.1"}]]}}]}`, `plugins[0].ipam.ranges[0][0]: missing "subnet"`},
		{"gateway outside", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24","gateway":"10.0.1.1"}]]}}]}`, "plugins[0].ipam.ranges[0][0].gateway: 10.0.1.1 is outside the subnet 10.0.0.0/24"},
		{"rangeStart", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"ten"}]]}}]}`, "plugins[0].ipam.ranges[0][0].rangeStart: invalid IP address ten"},
		{"mixed family", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":"fd00::/64"}]]}}]}`, "plugins[0].ipam.ranges[0][1].subnet: fd00::/64 mixes address families"},
		{"ranges shape", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[{"subnet":"10.0.0.0/24"}]}}]}`, "plugins[0].ipam.ranges[0]: must be an array of ranges, not an object"},
		{"legacy subnet", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"nope"}}]}`, `plugins[0].ipam.subnet: invalid CIDR "nope"`},
		{"route", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"10.0.0.0/24","routes":[{"dst":"0.0.0.0"}]}}]}`, `plugins[0].ipam.routes[0].dst: invalid CIDR "0.0.0.0"`},
		{"route gw", `{"name":"x","cniVersion":"1.1.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"10.0.0.0/24","routes":[{"dst":"0.0.0.0/0","gw":"x"}]}}]}`, "plugins[0].ipam.routes[0].gw: invalid IP address x"},
		{"single conf field", `{"name":"x","cniVersion":"1.0.0","type":"bridge","ipam":{"type":"host-local","subnet":"10.0.0.0/99"}}`, `x.conflist: ipam.subnet: invalid CIDR "10.0.0.0/99"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(testFile, []byte(tc.conf))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), testFile+": ") {
				t.Errorf("error %q does not start with the file name", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseConflist(t *testing.T) {
	b, err := renderDefault(netip.MustParsePrefix("10.89.3.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Parse("/d/default.conflist", b)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "default" || n.File != "/d/default.conflist" || n.List.CNIVersion != "1.1.0" {
		t.Errorf("got name %q file %q version %q", n.Name, n.File, n.List.CNIVersion)
	}
	if len(n.List.Plugins) != 2 || n.List.Plugins[0].Network.Type != "llcr-veth" || n.List.Plugins[1].Network.Type != "portmap" {
		t.Fatalf("unexpected plugins %+v", n.List.Plugins)
	}
	if !n.List.Plugins[0].Network.Capabilities["ips"] || !n.List.Plugins[1].Network.Capabilities["portMappings"] {
		t.Errorf("capabilities missing: %+v %+v", n.List.Plugins[0].Network.Capabilities, n.List.Plugins[1].Network.Capabilities)
	}
	if got := Subnets(n); len(got) != 1 || got[0] != netip.MustParsePrefix("10.89.3.0/24") {
		t.Errorf("Subnets = %v", got)
	}
	if bridgeName(n) != DefaultBridge {
		t.Errorf("bridge = %q", bridgeName(n))
	}
}

// A bare plugin config (.conf) is upconverted to a one-plugin list, as
// libcni does, so callers only ever deal with lists.
func TestParseSingleConf(t *testing.T) {
	conf := `{"cniVersion":"1.0.0","name":"old","type":"bridge","bridge":"br9",
	  "ipam":{"type":"host-local","subnet":"10.7.0.0/16","ranges":[[{"subnet":"10.8.0.0/24"}],[{"subnet":"fd00:8::/64"}]]}}`
	n, err := Parse("/x/old.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "old" || n.List.CNIVersion != "1.0.0" || len(n.List.Plugins) != 1 {
		t.Fatalf("got %q %q %d plugins", n.Name, n.List.CNIVersion, len(n.List.Plugins))
	}
	if p := n.List.Plugins[0]; p.Network.Type != "bridge" || !strings.Contains(string(p.Bytes), `"br9"`) {
		t.Errorf("plugin not carried over: %s", p.Bytes)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.7.0.0/16"), netip.MustParsePrefix("10.8.0.0/24"), netip.MustParsePrefix("fd00:8::/64")}
	got := Subnets(n)
	if len(got) != len(want) {
		t.Fatalf("Subnets = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Subnets = %v, want %v", got, want)
		}
	}
}

func TestLineCol(t *testing.T) {
	b := []byte("ab\ncd\nef")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{1, 1, 1}, {2, 1, 2}, {4, 2, 1}, {8, 3, 2}, {100, 3, 2}} {
		if l, c := lineCol(b, tc.off); l != tc.line || c != tc.col {
			t.Errorf("lineCol(%d) = %d,%d want %d,%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

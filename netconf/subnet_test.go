package netconf

import (
	"net/netip"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestChooseSubnet(t *testing.T) {
	var all10_89 []string
	for i := 0; i < 256; i++ {
		all10_89 = append(all10_89, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 89, byte(i), 0}), 24).String())
	}
	tests := []struct {
		name  string
		avoid []netip.Prefix
		want  string
	}{
		{"nothing to avoid", nil, "10.89.0.0/24"},
		{"first taken", prefixes("10.89.0.0/24"), "10.89.1.0/24"},
		{"host address inside", prefixes("10.89.0.17/32", "10.89.1.0/25"), "10.89.2.0/24"},
		{"wider route", prefixes("10.0.0.0/8"), "172.30.0.0/24"},
		{"ipv6 is irrelevant", prefixes("fd00::/8", "::ffff:0:0/96"), "10.89.0.0/24"},
		{"all of 10.89 taken", prefixes(all10_89...), "172.30.0.0/24"},
	}
	for _, tc := range tests {
		got, err := ChooseSubnet(tc.avoid)
		if err != nil || got.String() != tc.want {
			t.Errorf("%s: ChooseSubnet = %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	if _, err := ChooseSubnet(prefixes("10.0.0.0/8", "172.16.0.0/12")); err == nil {
		t.Error("ChooseSubnet found a subnet when every candidate is taken")
	}
}

// HostRoutes reads the real routing table: it must not include the default
// route, which overlaps everything and would leave no subnet to choose.
func TestHostRoutes(t *testing.T) {
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Bits() == 0 {
			t.Errorf("default route %v returned", r)
		}
		if r != r.Masked() {
			t.Errorf("%v is not masked", r)
		}
	}
	if len(routes) == 0 {
		t.Log("no routes at all on this host (loopback only?)")
	}
}

func TestLastAddr(t *testing.T) {
	for p, want := range map[string]string{"10.0.0.0/24": "10.0.0.255", "10.0.0.0/30": "10.0.0.3", "0.0.0.0/0": "255.255.255.255"} {
		if got := lastAddr(netip.MustParsePrefix(p)); got.String() != want {
			t.Errorf("lastAddr(%s) = %s, want %s", p, got, want)
		}
	}
}

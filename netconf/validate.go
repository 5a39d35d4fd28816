package netconf

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/containernetworking/cni/pkg/utils"
)

// field joins a JSON path and a key: "" + "type" is "type", so a bare .conf
// reports the same field names a conflist's plugins[i] does.
func field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkPlugin validates the fields of one plugin config that are common to
// the plugins llcr ships or documents (llcr-veth, bridge, host-local IPAM).
// Unknown fields are left to the plugin: CNI configs are open-ended.
func checkPlugin(path string, raw any) error {
	at := path
	if at == "" {
		at = "plugin"
	}
	p, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: must be an object, not %s", at, jsonKind(raw))
	}
	t, ok := p["type"]
	if !ok {
		return fmt.Errorf(`%s: missing "type"`, at)
	}
	typ, ok := t.(string)
	if !ok {
		return fmt.Errorf("%s: must be a string, not %s", field(path, "type"), jsonKind(t))
	}
	if typ == "" || strings.ContainsAny(typ, "/\x00") {
		return fmt.Errorf("%s: invalid plugin type %q (the name of a binary in the CNI plugin path)", field(path, "type"), typ)
	}
	if c, ok := p["capabilities"]; ok {
		caps, ok := c.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: must be an object, not %s", field(path, "capabilities"), jsonKind(c))
		}
		for k, v := range caps {
			if _, ok := v.(bool); !ok {
				return fmt.Errorf("%s: must be true or false, not %s", field(path, "capabilities."+k), jsonKind(v))
			}
		}
	}
	for _, k := range []string{"ipMasq", "isGateway", "isDefaultGateway", "hairpinMode"} {
		if v, ok := p[k]; ok {
			if _, ok := v.(bool); !ok {
				return fmt.Errorf("%s: must be true or false, not %s", field(path, k), jsonKind(v))
			}
		}
	}
	if v, ok := p["bridge"]; ok {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: must be a string, not %s", field(path, "bridge"), jsonKind(v))
		}
		if utils.ValidateInterfaceName(s) != nil {
			return fmt.Errorf("%s: invalid interface name %q (1-15 characters, no '/', ':' or spaces)", field(path, "bridge"), s)
		}
	}
	if v, ok := p["mtu"]; ok {
		f, ok := v.(float64)
		if !ok || f < 0 || f > math.MaxInt32 || f != math.Trunc(f) {
			return fmt.Errorf("%s: must be a non-negative integer, not %v", field(path, "mtu"), v)
		}
	}
	if typ == "llcr-veth" {
		if v, ok := p["mode"]; ok {
			if s, _ := v.(string); s != "bridge" && s != "routed" {
				return fmt.Errorf(`%s: must be "bridge" or "routed", not %v`, field(path, "mode"), v)
			}
		}
	}
	if v, ok := p["ipam"]; ok {
		return checkIPAM(field(path, "ipam"), v)
	}
	return nil
}

func checkIPAM(path string, raw any) error {
	ipam, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: must be an object, not %s", path, jsonKind(raw))
	}
	if len(ipam) == 0 {
		return nil // an empty ipam means layer 2 only, which bridge allows
	}
	t, ok := ipam["type"]
	if !ok {
		return fmt.Errorf(`%s: missing "type"`, path)
	}
	if s, ok := t.(string); !ok || s == "" || strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("%s: invalid IPAM plugin type %v", field(path, "type"), t)
	}
	if v, ok := ipam["subnet"]; ok {
		if _, err := checkCIDR(field(path, "subnet"), v); err != nil {
			return err
		}
	}
	if v, ok := ipam["ranges"]; ok {
		if err := checkRanges(field(path, "ranges"), v); err != nil {
			return err
		}
	}
	if v, ok := ipam["routes"]; ok {
		if err := checkRoutes(field(path, "routes"), v); err != nil {
			return err
		}
	}
	return nil
}

// checkRanges follows host-local's shape: a list of range sets, each a list
// of ranges of one address family.
func checkRanges(path string, raw any) error {
	sets, ok := raw.([]any)
	if !ok {
		return fmt.Errorf("%s: must be an array of range sets, not %s", path, jsonKind(raw))
	}
	if len(sets) == 0 {
		return fmt.Errorf("%s: is empty", path)
	}
	for i, s := range sets {
		setPath := fmt.Sprintf("%s[%d]", path, i)
		set, ok := s.([]any)
		if !ok {
			return fmt.Errorf("%s: must be an array of ranges, not %s", setPath, jsonKind(s))
		}
		if len(set) == 0 {
			return fmt.Errorf("%s: is empty", setPath)
		}
		var family netip.Prefix
		for j, r := range set {
			rp := fmt.Sprintf("%s[%d]", setPath, j)
			subnet, err := checkRange(rp, r)
			if err != nil {
				return err
			}
			if j > 0 && subnet.Addr().Is4() != family.Addr().Is4() {
				return fmt.Errorf("%s.subnet: %s mixes address families with %s in the same range set", rp, subnet, family)
			}
			family = subnet
		}
	}
	return nil
}

func checkRange(path string, raw any) (netip.Prefix, error) {
	r, ok := raw.(map[string]any)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%s: must be an object, not %s", path, jsonKind(raw))
	}
	s, ok := r["subnet"]
	if !ok {
		return netip.Prefix{}, fmt.Errorf(`%s: missing "subnet"`, path)
	}
	subnet, err := checkCIDR(field(path, "subnet"), s)
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, k := range []string{"rangeStart", "rangeEnd", "gateway"} {
		v, ok := r[k]
		if !ok {
			continue
		}
		str, _ := v.(string)
		a, err := netip.ParseAddr(str)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s: invalid IP address %v", field(path, k), v)
		}
		if !subnet.Contains(a) {
			return netip.Prefix{}, fmt.Errorf("%s: %s is outside the subnet %s", field(path, k), a, subnet)
		}
	}
	return subnet, nil
}

func checkRoutes(path string, raw any) error {
	routes, ok := raw.([]any)
	if !ok {
		return fmt.Errorf("%s: must be an array, not %s", path, jsonKind(raw))
	}
	for i, rt := range routes {
		rp := fmt.Sprintf("%s[%d]", path, i)
		r, ok := rt.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: must be an object, not %s", rp, jsonKind(rt))
		}
		d, ok := r["dst"]
		if !ok {
			return fmt.Errorf(`%s: missing "dst"`, rp)
		}
		if _, err := checkCIDR(field(rp, "dst"), d); err != nil {
			return err
		}
		if gw, ok := r["gw"]; ok {
			s, _ := gw.(string)
			if _, err := netip.ParseAddr(s); err != nil {
				return fmt.Errorf("%s: invalid IP address %v", field(rp, "gw"), gw)
			}
		}
	}
	return nil
}

// checkCIDR parses a subnet and refuses host bits, as host-local does, but
// with the field named and the intended network suggested.
func checkCIDR(path string, raw any) (netip.Prefix, error) {
	s, ok := raw.(string)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%s: must be a CIDR string, not %s", path, jsonKind(raw))
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s: invalid CIDR %q", path, s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%s: %q has host bits set (did you mean %s?)", path, s, p.Masked())
	}
	return p, nil
}

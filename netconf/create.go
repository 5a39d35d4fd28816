package netconf

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/containernetworking/cni/pkg/utils"
)

// CreateOptions are the user's choices for `network create`; zero values
// mean "pick for me".
type CreateOptions struct {
	Subnet     string // IPv4 CIDR; chosen automatically when empty
	Gateway    string // must be inside Subnet; host-local's first address when empty
	IPv6Subnet string // adds a second, IPv6, range set (dual stack)
	Bridge     string // default "llcr-<name>", cut to 15 characters
	Plugin     string // "llcr-veth" (default) or "bridge", the reference plugin
}

// Network names become file names and parts of CNI cache and lock file
// names, so they follow the container id rules.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

// reservedNames are --network values with their own meaning, not networks.
var reservedNames = map[string]bool{"none": true, "host": true}

// ValidateName checks a network name for Create.
func ValidateName(name string) error {
	if !nameRE().MatchString(name) || utils.ValidateNetworkName(name) != nil {
		return fmt.Errorf("invalid network name %q: a network name is 1 to 64 characters: letters, digits, '_', '.' and '-', starting with a letter or digit", name)
	}
	if reservedNames[name] {
		return fmt.Errorf("invalid network name %q: it is reserved (--network %s means no CNI network)", name, name)
	}
	return nil
}

// Create validates o, then writes WriteDir/<name>.conflist. The network
// "default" may be created too, to give the built-in one other settings.
func (l Loader) Create(name string, o CreateOptions) (*Network, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.WriteDir, 0o755); err != nil {
		return nil, fmt.Errorf("create network config dir %s: %w", l.WriteDir, err)
	}
	unlock, err := lockDir(l.WriteDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	nets, bad := l.scan()
	for _, n := range nets {
		if n.Name == name {
			return nil, fmt.Errorf("network %q already exists (%s)", name, n.File)
		}
	}
	for _, b := range bad {
		if stem(b.path) == name {
			return nil, fmt.Errorf("network %q: %s exists but cannot be loaded: %w", name, b.path, b.err)
		}
	}
	spec, err := l.resolve(name, o, nets)
	if err != nil {
		return nil, fmt.Errorf("create network %q: %w", name, err)
	}
	b, err := buildConflist(spec)
	if err != nil {
		return nil, fmt.Errorf("create network %q: %w", name, err)
	}
	path := filepath.Join(l.WriteDir, name+".conflist")
	n, err := Parse(path, b)
	if err != nil {
		return nil, fmt.Errorf("create network %q: %w", name, err)
	}
	if err := writeNew(path, b, 0o644); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create network %q: %s already exists and defines another network", name, path)
		}
		return nil, fmt.Errorf("create network %q: %w", name, err)
	}
	return n, nil
}

// resolve turns options into a netSpec, checking them against the existing
// networks: two networks sharing a subnet or a bridge would route each
// other's traffic wrongly.
func (l Loader) resolve(name string, o CreateOptions, nets []*Network) (netSpec, error) {
	s := netSpec{name: name, plugin: o.Plugin, bridge: o.Bridge}
	switch s.plugin {
	case "":
		s.plugin = "llcr-veth"
	case "llcr-veth", "bridge":
	default:
		return s, fmt.Errorf(`plugin %q is not supported: use "llcr-veth" or "bridge"`, o.Plugin)
	}
	if err := l.resolveBridge(&s, nets); err != nil {
		return s, err
	}

	var taken []netip.Prefix
	for _, n := range nets {
		taken = append(taken, Subnets(n)...)
	}
	if o.Subnet == "" {
		if o.Gateway != "" {
			return s, errors.New("a gateway needs an explicit subnet")
		}
		routes, err := hostRoutes()
		if err != nil {
			return s, fmt.Errorf("choose a subnet: %w", err)
		}
		if s.subnet, err = ChooseSubnet(append(routes, taken...)); err != nil {
			return s, err
		}
	} else {
		p, err := parseSubnet("subnet", o.Subnet, false)
		if err != nil {
			return s, err
		}
		if err := checkFree(p, nets); err != nil {
			return s, err
		}
		s.subnet = p
	}
	if o.Gateway != "" {
		gw, err := parseGateway(o.Gateway, s.subnet)
		if err != nil {
			return s, err
		}
		s.gateway = gw
	}
	if o.IPv6Subnet != "" {
		p, err := parseSubnet("IPv6 subnet", o.IPv6Subnet, true)
		if err != nil {
			return s, err
		}
		if err := checkFree(p, nets); err != nil {
			return s, err
		}
		s.subnet6 = p
	}
	return s, nil
}

func (l Loader) resolveBridge(s *netSpec, nets []*Network) error {
	if s.bridge == "" {
		s.bridge = "llcr-" + s.name
		if len(s.bridge) > 15 {
			s.bridge = s.bridge[:15] // IFNAMSIZ-1: the kernel's limit
		}
	}
	if utils.ValidateInterfaceName(s.bridge) != nil {
		return fmt.Errorf("invalid bridge name %q: 1-15 characters, no '/', ':' or spaces", s.bridge)
	}
	if s.bridge == DefaultBridge && s.name != DefaultName {
		return fmt.Errorf("bridge %q belongs to the default network; choose another with --bridge", s.bridge)
	}
	for _, n := range nets {
		if bridgeName(n) == s.bridge {
			return fmt.Errorf("bridge %q is already used by network %q (%s); choose another with --bridge", s.bridge, n.Name, n.File)
		}
	}
	return nil
}

func parseSubnet(what, s string, v6 bool) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		example := "10.90.0.0/24"
		if v6 {
			example = "fd00:90::/64"
		}
		return p, fmt.Errorf("invalid %s %q: not a CIDR like %s", what, s, example)
	}
	if p.Addr().Is6() != v6 {
		return p, fmt.Errorf("invalid %s %q: wrong address family", what, s)
	}
	if p != p.Masked() {
		return p, fmt.Errorf("invalid %s %q: host bits set (did you mean %s?)", what, s, p.Masked())
	}
	// Room for the gateway, at least one container and (IPv4) broadcast.
	if p.Addr().BitLen()-p.Bits() < 2 {
		return p, fmt.Errorf("invalid %s %q: too small for a gateway and a container", what, s)
	}
	return p, nil
}

func checkFree(p netip.Prefix, nets []*Network) error {
	for _, n := range nets {
		for _, q := range Subnets(n) {
			if p.Overlaps(q) {
				return fmt.Errorf("subnet %s overlaps %s of network %q (%s)", p, q, n.Name, n.File)
			}
		}
	}
	return nil
}

func parseGateway(s string, subnet netip.Prefix) (netip.Addr, error) {
	gw, err := netip.ParseAddr(s)
	if err != nil {
		return gw, fmt.Errorf("invalid gateway %q: not an IP address", s)
	}
	if !subnet.Contains(gw) {
		return gw, fmt.Errorf("gateway %s is outside the subnet %s", gw, subnet)
	}
	if gw == subnet.Addr() || gw == lastAddr(subnet) {
		return gw, fmt.Errorf("gateway %s is the network or broadcast address of %s", gw, subnet)
	}
	return gw, nil
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (1 << host) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Remove deletes the file defining the network from WriteDir. Networks
// found only in other directories belong to other tools and are refused.
// Removing "default" is allowed: it is rewritten on its next use. Whether
// containers are still attached is the caller's concern.
func (l Loader) Remove(name string) error {
	own := Loader{Dirs: []string{l.WriteDir}}
	nets, bad := own.scan()
	path := ""
	for _, n := range nets {
		if n.Name == name {
			path = n.File
			break
		}
	}
	if path == "" {
		// A broken file can be removed too: that is how one gets rid of it.
		for _, b := range bad {
			if stem(b.path) == name && b.path != l.WriteDir {
				path = b.path
				break
			}
		}
	}
	if path == "" {
		// Not via Get: that would write the default just to refuse it.
		all, _ := l.scan()
		for _, n := range all {
			if n.Name == name {
				return fmt.Errorf("network %q is defined in %s, which llcr does not manage (only %s); remove it by hand", name, n.File, l.WriteDir)
			}
		}
		return fmt.Errorf("remove network %q: no such network in %s", name, l.WriteDir)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove network %q: %w", name, err)
	}
	return nil
}

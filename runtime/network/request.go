// Package network is the host side of llcr's networking: before the
// container process exists it pins a network namespace, reserves published
// ports and runs CNI ADD for each requested network; when the container is
// gone it runs CNI DEL from the cache and unpins. It also reaps what a
// crashed runtime left.
package network

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Annotation carries the network request inside the spec, so the one model
// (specs.Spec) describes a networked container too and a detached monitor
// reading config.json sees the same request.
const Annotation = "org.llcr.network"

// Request is what the user asked for with --network, --ip, --mac, -p, --dns.
type Request struct {
	Networks  []Net    `json:"networks"`
	Publish   []Port   `json:"publish,omitempty"`
	DNS       []string `json:"dns,omitempty"`
	ConfigDir string   `json:"configDir,omitempty"`
}

// Net is one attachment: interface IfName in the container on network Name.
type Net struct {
	Name   string `json:"name"`
	IfName string `json:"ifname"`
	IP     string `json:"ip,omitempty"`
	MAC    string `json:"mac,omitempty"`
}

// Port is one published port, in portmap's capability format.
type Port struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

func (p Port) String() string {
	h := p.HostIP
	if h != "" {
		h += ":"
	}
	return fmt.Sprintf("%s%d->%d/%s", h, p.HostPort, p.ContainerPort, p.Protocol)
}

// Mode says what --network values mean for the namespace.
type Mode int

const (
	// ModeNone: a private network namespace with only lo (the default).
	ModeNone Mode = iota
	// ModeHost: the host's network namespace.
	ModeHost
	// ModeCNI: a pinned namespace configured by CNI networks.
	ModeCNI
)

// ParseFlags turns the CLI's network flags into a mode and a request.
func ParseFlags(networks []string, ip, mac string, publish, dns []string, configDir string) (Mode, *Request, error) {
	mode := ModeNone
	req := &Request{ConfigDir: configDir}
	for _, n := range networks {
		switch n {
		case "none", "host":
			if len(networks) > 1 {
				return 0, nil, fmt.Errorf("--network %s cannot be combined with other networks", n)
			}
			if n == "host" {
				mode = ModeHost
			}
			continue
		case "":
			return 0, nil, fmt.Errorf("--network needs a name: a network from `container network ls`, none or host")
		}
		for _, have := range req.Networks {
			if have.Name == n {
				return 0, nil, fmt.Errorf("--network %s given twice", n)
			}
		}
		mode = ModeCNI
		req.Networks = append(req.Networks, Net{Name: n, IfName: fmt.Sprintf("eth%d", len(req.Networks))})
	}
	if mode != ModeCNI && (ip != "" || mac != "" || len(publish) > 0) {
		return 0, nil, fmt.Errorf("--ip, --mac and --publish need a CNI network: add --network default")
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return 0, nil, fmt.Errorf("invalid --ip %q: want an address such as 10.89.0.10", ip)
		}
		req.Networks[0].IP = a.String()
	}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 {
			return 0, nil, fmt.Errorf("invalid --mac %q: want six hex bytes such as 02:42:ac:11:00:02", mac)
		}
		if hw[0]&1 == 1 {
			return 0, nil, fmt.Errorf("invalid --mac %q: a multicast address cannot name an interface", mac)
		}
		req.Networks[0].MAC = hw.String()
	}
	seen := map[string]bool{}
	for _, p := range publish {
		port, err := ParsePublish(p)
		if err != nil {
			return 0, nil, err
		}
		key := fmt.Sprintf("%s/%d/%s", port.HostIP, port.HostPort, port.Protocol)
		if seen[key] {
			return 0, nil, fmt.Errorf("--publish %s: host port %d/%s is published twice", p, port.HostPort, port.Protocol)
		}
		seen[key] = true
		req.Publish = append(req.Publish, port)
	}
	for _, d := range dns {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return 0, nil, fmt.Errorf("invalid --dns %q: want a nameserver address", d)
		}
		req.DNS = append(req.DNS, a.String())
	}
	return mode, req, nil
}

// ParsePublish parses [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp].
func ParsePublish(s string) (Port, error) {
	bad := func(why string) (Port, error) {
		return Port{}, fmt.Errorf("invalid --publish %q: %s (want [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])", s, why)
	}
	p := Port{Protocol: "tcp"}
	rest := s
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		p.Protocol = strings.ToLower(rest[i+1:])
		rest = rest[:i]
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			return bad("protocol must be tcp or udp")
		}
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return bad("missing container port")
	}
	ctr := rest[i+1:]
	rest = rest[:i]
	host := rest
	if j := strings.LastIndexByte(rest, ':'); j >= 0 {
		ipText := strings.Trim(rest[:j], "[]")
		a, err := netip.ParseAddr(ipText)
		if err != nil {
			return bad(fmt.Sprintf("host IP %q is not an address", ipText))
		}
		p.HostIP = a.String()
		host = rest[j+1:]
	}
	var err error
	if p.HostPort, err = portNumber(host); err != nil {
		return bad("host port: " + err.Error())
	}
	if p.ContainerPort, err = portNumber(ctr); err != nil {
		return bad("container port: " + err.Error())
	}
	return p, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port from 1 to 65535", s)
	}
	return n, nil
}

// Encode stores req in the spec's annotations.
func Encode(s *specs.Spec, req *Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode network request: %w", err)
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[Annotation] = string(b)
	return nil
}

// Decode reads the request from the spec; nil when the spec has none.
func Decode(s *specs.Spec) (*Request, error) {
	v, ok := s.Annotations[Annotation]
	if !ok {
		return nil, nil
	}
	var req Request
	if err := json.Unmarshal([]byte(v), &req); err != nil {
		return nil, fmt.Errorf("annotation %s: %w", Annotation, err)
	}
	if len(req.Networks) == 0 {
		return nil, nil
	}
	return &req, nil
}

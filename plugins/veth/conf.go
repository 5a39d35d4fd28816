// Package veth is the llcr-veth CNI plugin: it connects a container network
// namespace to the host with a veth pair, either as a port of a Linux bridge
// ("bridge" mode) or as a point-to-point link routed by the host ("routed"
// mode). The verbs are plain functions over skel.CmdArgs so that any CNI
// runtime (containerd, CRI-O, cnitool, llcr) can drive them through the
// binary in cmd/llcr-veth, and tests can call them in-process.
package veth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
)

// Modes of operation.
const (
	ModeBridge = "bridge"
	ModeRouted = "routed"
)

// DefaultBridge is the bridge used when the config names none, so that a
// config carrying only "ipam" is complete.
const DefaultBridge = "llcr0"

// NetConf is the plugin's network configuration.
//
// It embeds types.PluginConf, whose MarshalJSON is promoted: marshalling a
// NetConf would drop our fields, so it is only ever unmarshalled.
type NetConf struct {
	types.PluginConf

	Mode        string `json:"mode,omitempty"`
	Bridge      string `json:"bridge,omitempty"`
	MTU         int    `json:"mtu,omitempty"`
	IPMasq      bool   `json:"ipMasq,omitempty"`
	HairpinMode bool   `json:"hairpinMode,omitempty"`
	// IsGateway is a pointer because its default (true in bridge mode)
	// differs from the zero value.
	IsGateway *bool `json:"isGateway,omitempty"`

	// RuntimeConfig carries the "mac" capability: the runtime's choice of
	// the container interface's address (a runtime's --mac).
	RuntimeConfig struct {
		Mac string `json:"mac,omitempty"`
	} `json:"runtimeConfig,omitempty"`

	// mac is RuntimeConfig.Mac parsed; nil lets the kernel pick.
	mac net.HardwareAddr
}

// The CNI spec restricts network names to this alphabet; we rely on it
// because the name is embedded in link aliases, rule comments and lock
// file names, where ':' and '/' act as separators.
var networkNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// LoadConf parses and validates a network configuration, filling in the
// defaults. Errors name the field at fault and carry the CNI "invalid
// network config" or "decoding failure" codes so runtimes can tell a
// broken config from a failed operation.
func LoadConf(data []byte) (*NetConf, error) {
	conf := &NetConf{}
	if err := json.Unmarshal(data, conf); err != nil {
		return nil, decodeError(err)
	}
	if conf.Name == "" {
		return nil, fieldError("name", "required")
	}
	if !networkNameRE.MatchString(conf.Name) {
		return nil, fieldError("name", fmt.Sprintf("%q must match %s", conf.Name, networkNameRE))
	}
	switch conf.Mode {
	case "":
		conf.Mode = ModeBridge
	case ModeBridge, ModeRouted:
	default:
		return nil, fieldError("mode", fmt.Sprintf("%q is not %q or %q", conf.Mode, ModeBridge, ModeRouted))
	}
	if conf.Bridge == "" {
		conf.Bridge = DefaultBridge
	}
	if err := validIfName(conf.Bridge); err != nil {
		return nil, fieldError("bridge", err.Error())
	}
	// 68 is the smallest MTU IPv4 allows; anything below cannot carry a
	// packet, so it is a typo rather than a choice.
	if conf.MTU != 0 && (conf.MTU < 68 || conf.MTU > 65535) {
		return nil, fieldError("mtu", fmt.Sprintf("%d is outside 68..65535 (0 means the default-route interface's MTU)", conf.MTU))
	}
	if m := conf.RuntimeConfig.Mac; m != "" {
		hw, err := net.ParseMAC(m)
		if err != nil || len(hw) != 6 {
			return nil, fieldError("runtimeConfig.mac", fmt.Sprintf("%q is not a six-byte Ethernet address", m))
		}
		if hw[0]&1 != 0 {
			return nil, fieldError("runtimeConfig.mac", fmt.Sprintf("%q is a multicast address, which cannot name an interface", m))
		}
		conf.mac = hw
	}
	if conf.IPAM.Type == "" {
		return nil, fieldError("ipam.type", "required: this plugin delegates address assignment to an IPAM plugin")
	}
	return conf, nil
}

// gateway reports whether the host side carries the gateway address. Routed
// mode always needs it: the host end is the container's only next hop.
func (c *NetConf) gateway() bool {
	if c.Mode == ModeRouted {
		return true
	}
	return c.IsGateway == nil || *c.IsGateway
}

func fieldError(field, msg string) error {
	return types.NewError(types.ErrInvalidNetworkConfig,
		fmt.Sprintf("invalid network config: field %q: %s", field, msg), "")
}

// decodeError turns encoding/json's errors into ones that say which field
// (or byte offset, for syntax errors) broke.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		// The embedded struct's name is an implementation detail, not part
		// of the config's shape.
		field := strings.TrimPrefix(typeErr.Field, "PluginConf.")
		return types.NewError(types.ErrDecodingFailure,
			fmt.Sprintf("parse network config: field %q: cannot use JSON %s as %s", field, typeErr.Value, typeErr.Type), "")
	case errors.As(err, &syntaxErr):
		return types.NewError(types.ErrDecodingFailure,
			fmt.Sprintf("parse network config: invalid JSON at byte %d: %v", syntaxErr.Offset, err), "")
	default:
		return types.NewError(types.ErrDecodingFailure, fmt.Sprintf("parse network config: %v", err), "")
	}
}

// validIfName applies the kernel's rules for interface names (dev_valid_name).
func validIfName(name string) error {
	if name == "" || len(name) > 15 {
		return fmt.Errorf("%q must be 1 to 15 bytes long", name)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%q is not a valid interface name", name)
	}
	for _, r := range name {
		if r == '/' || r == ':' || r <= ' ' || r == 0x7f {
			return fmt.Errorf("%q contains a character not allowed in interface names", name)
		}
	}
	return nil
}

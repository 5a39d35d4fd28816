package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"llcr/netconf"
	"llcr/runtime/network"
)

// NetworkCmd is `container network ls|create|rm|inspect`.
type NetworkCmd struct {
	ConfigDir string `name:"network-config-dir" help:"Directory of CNI network configs (default: /etc/llcr/net.d, then /etc/cni/net.d)."`

	Ls      NetworkLsCmd      `cmd:"" aliases:"list" help:"List networks."`
	Create  NetworkCreateCmd  `cmd:"" help:"Create a bridge network."`
	Rm      NetworkRmCmd      `cmd:"" aliases:"remove,delete" help:"Remove a network no container uses."`
	Inspect NetworkInspectCmd `cmd:"" help:"Print a network as JSON."`
}

func (n *NetworkCmd) loader() netconf.Loader { return netconf.DefaultLoader(n.ConfigDir) }

// NetworkLsCmd is `container network ls`.
type NetworkLsCmd struct {
	Quiet bool `short:"q" help:"Print names only."`
}

func (c *NetworkLsCmd) Run(n *NetworkCmd) error {
	nets, lerr := n.loader().List()
	if !hasNetwork(nets, netconf.DefaultName) {
		// Built in: written on first use, listed before that too.
		if d, err := n.loader().Get(netconf.DefaultName); err == nil {
			nets = append([]*netconf.Network{d}, nets...)
		}
	}
	if c.Quiet {
		for _, x := range nets {
			fmt.Println(x.Name)
		}
	} else {
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tSUBNETS\tBRIDGE\tPLUGINS\tFILE")
		for _, x := range nets {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", x.Name, dash(joinStrings(netconf.Subnets(x))),
				dash(netconf.Bridge(x)), strings.Join(pluginTypes(x), ","), x.File)
		}
		w.Flush()
	}
	// The good networks are listed; the broken files are the error.
	return lerr
}

func hasNetwork(nets []*netconf.Network, name string) bool {
	for _, n := range nets {
		if n.Name == name {
			return true
		}
	}
	return false
}

func pluginTypes(n *netconf.Network) []string {
	var out []string
	for _, p := range n.List.Plugins {
		if p.Network != nil {
			out = append(out, p.Network.Type)
		}
	}
	return out
}

func joinStrings[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// NetworkCreateCmd is `container network create NAME`.
type NetworkCreateCmd struct {
	Name       string `arg:"" help:"Network name."`
	Subnet     string `help:"IPv4 subnet (CIDR); default: a free /24 of 10.89.0.0/16 or 172.30.0.0/16."`
	Gateway    string `help:"Gateway address inside the subnet (default: its first address)."`
	IPv6Subnet string `name:"ipv6-subnet" help:"Also hand out IPv6 addresses from this subnet (dual stack)."`
	Bridge     string `help:"Bridge name (default: llcr-NAME, cut to 15 characters)."`
	Plugin     string `help:"Main plugin: llcr-veth (default) or bridge (the CNI reference plugin)."`
}

func (c *NetworkCreateCmd) Run(n *NetworkCmd) error {
	if err := requireRoot(); err != nil {
		return err
	}
	_, err := n.loader().Create(c.Name, netconf.CreateOptions{
		Subnet: c.Subnet, Gateway: c.Gateway, IPv6Subnet: c.IPv6Subnet, Bridge: c.Bridge, Plugin: c.Plugin,
	})
	if err != nil {
		return err
	}
	fmt.Println(c.Name)
	return nil
}

// NetworkRmCmd is `container network rm NAME...`.
type NetworkRmCmd struct {
	Names []string `arg:"" help:"Network names."`
}

func (c *NetworkRmCmd) Run(n *NetworkCmd) error {
	if err := requireRoot(); err != nil {
		return err
	}
	var errs []error
	for _, name := range c.Names {
		if err := removeNetwork(n.loader(), name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Println(name)
	}
	return errors.Join(errs...)
}

func removeNetwork(l netconf.Loader, name string) error {
	if users := network.Users(name); len(users) > 0 {
		return fmt.Errorf("network %q is in use by container(s) %s: delete them first", name, strings.Join(users, ", "))
	}
	// Looked up before the file goes, for the bridge it names; a broken
	// file has no bridge to remove and is removed all the same.
	var found *netconf.Network
	if nets, _ := l.List(); nets != nil {
		for _, x := range nets {
			if x.Name == name {
				found = x
			}
		}
	}
	if err := l.Remove(name); err != nil {
		return err
	}
	return network.RemoveLeftovers(found)
}

// NetworkInspectCmd is `container network inspect NAME`.
type NetworkInspectCmd struct {
	Names []string `arg:"" help:"Network names."`
}

// networkInfo is what inspect prints.
type networkInfo struct {
	Name       string          `json:"name"`
	File       string          `json:"file"`
	CNIVersion string          `json:"cniVersion"`
	Plugins    []string        `json:"plugins"`
	Bridge     string          `json:"bridge,omitempty"`
	Subnets    []string        `json:"subnets"`
	Gateways   []string        `json:"gateways,omitempty"`
	Containers []string        `json:"containers"`
	Config     json.RawMessage `json:"config"`
}

func (c *NetworkInspectCmd) Run(n *NetworkCmd) error {
	var out []networkInfo
	for _, name := range c.Names {
		x, err := n.loader().Get(name)
		if err != nil {
			return err
		}
		info := networkInfo{
			Name: x.Name, File: x.File, CNIVersion: x.List.CNIVersion, Plugins: pluginTypes(x),
			Bridge: netconf.Bridge(x), Subnets: []string{}, Containers: network.Users(name),
			Config: json.RawMessage(x.List.Bytes),
		}
		for _, s := range netconf.Subnets(x) {
			info.Subnets = append(info.Subnets, s.String())
		}
		for _, g := range netconf.Gateways(x) {
			info.Gateways = append(info.Gateways, g.String())
		}
		if info.Containers == nil {
			info.Containers = []string{}
		}
		out = append(out, info)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

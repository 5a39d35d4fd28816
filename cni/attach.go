package cni

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/utils"

	"llcr/netconf"
)

// cleanupTimeout bounds the DEL that follows a failed ADD. It runs even
// when the ADD failed because ctx was cancelled, so it needs its own limit.
const cleanupTimeout = time.Minute

// Attach runs ADD of network n for container id, whose pinned network
// namespace is netnsPath, creating interface ifname in it. caps are the
// capability args ("portMappings", "ips", ...); libcni passes each plugin
// only those its config declares in "capabilities".
//
// On failure nothing is left behind: a failed ADD is followed by DEL, as
// the CNI spec requires, since plugins before the failing one (and the
// failing one itself) may have set things up already.
//
// The caller holds Lock(id).
func (m *Manager) Attach(ctx context.Context, id, netnsPath, ifname string, n *netconf.Network, caps map[string]interface{}) (*types100.Result, error) {
	if err := checkArgs(id, ifname, n); err != nil {
		return nil, err
	}
	if netnsPath == "" {
		return nil, fmt.Errorf("network %q: attach container %s: no network namespace", n.Name, id)
	}
	// Find every binary first: failing before anything ran leaves nothing
	// to clean up, and the error can say exactly what is missing.
	if err := m.checkPlugins(n.Name, n.List); err != nil {
		return nil, err
	}
	unlock, err := m.LockNetworkShared(n.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()

	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netnsPath, IfName: ifname, CapabilityArgs: caps}
	cfg, rec := m.config()
	// A cached entry means an attachment that was never detached. ADD over
	// it would fail, and the cleanup DEL would then tear down the live one.
	if cached, _, err := cfg.GetNetworkListCachedConfig(n.List, rt); err == nil && cached != nil {
		return nil, fmt.Errorf("network %q: container %s already has interface %s attached; detach it first", n.Name, id, ifname)
	}

	res, err := cfg.AddNetworkList(ctx, n.List, rt)
	if err == nil {
		var r *types100.Result
		if r, err = types100.NewResultFromResult(res); err == nil {
			return r, nil
		}
		err = fmt.Errorf("network %q: convert plugin result: %w", n.Name, err)
	} else {
		err = wrapOp(n.Name, "ADD", rec, err)
	}

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	dcfg, drec := m.config()
	if derr := dcfg.DelNetworkList(dctx, n.List, rt); derr != nil {
		return nil, fmt.Errorf("%w (and the cleanup failed: %v)", err, wrapOp(n.Name, "DEL", drec, derr))
	}
	return nil, err
}

func checkArgs(id, ifname string, n *netconf.Network) error {
	if n == nil || n.List == nil {
		return errors.New("no network given")
	}
	if e := utils.ValidateNetworkName(n.Name); e != nil {
		return fmt.Errorf("network %q: %w", n.Name, e)
	}
	if e := utils.ValidateContainerID(id); e != nil {
		return fmt.Errorf("network %q: container id %q: %w", n.Name, id, e)
	}
	if e := utils.ValidateInterfaceName(ifname); e != nil {
		return fmt.Errorf("network %q: interface name %q: %w", n.Name, ifname, e)
	}
	return nil
}

// checkPlugins finds the binary of each plugin in the list and of each
// IPAM plugin they delegate to (which the plugin would look up in the same
// path, via CNI_PATH).
func (m *Manager) checkPlugins(network string, list *libcni.NetworkConfigList) error {
	for _, p := range list.Plugins {
		if p.Network == nil {
			continue
		}
		for _, t := range []string{p.Network.Type, p.Network.IPAM.Type} {
			if t == "" {
				continue
			}
			if _, err := invoke.FindInPath(t, m.pluginDirs); err != nil {
				return &PluginNotFoundError{Network: network, Plugin: t, Dirs: m.pluginDirs}
			}
		}
	}
	return nil
}

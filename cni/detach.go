package cni

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/libcni"
	"golang.org/x/sys/unix"

	"llcr/netconf"
)

// Detach runs DEL of network n for container id. It uses the config cached
// at ADD time when there is one, so it tears down what was set up even if
// the network's file was edited or removed since; without a cache entry it
// runs DEL with n's current config, since a crash between a plugin's ADD
// and the cache write would leave the cache empty yet resources allocated.
// DEL of something already gone succeeds (CNI requires plugins to make DEL
// idempotent); on success the cache entry is removed.
//
// The caller holds Lock(id).
func (m *Manager) Detach(ctx context.Context, id, netnsPath, ifname string, n *netconf.Network) error {
	if err := checkArgs(id, ifname, n); err != nil {
		return err
	}
	unlock, err := m.LockNetworkShared(n.Name)
	if err != nil {
		return err
	}
	defer unlock()

	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: liveNetNS(netnsPath), IfName: ifname}
	cfg, _ := m.config()
	list := n.List
	if cached, crt, err := cfg.GetNetworkListCachedConfig(n.List, rt); err == nil && cached != nil {
		cl, err := libcni.NetworkConfFromBytes(cached)
		if err != nil {
			return fmt.Errorf("network %q: cached config of container %s: %w", n.Name, id, err)
		}
		cl.Name = n.Name   // the cache key, whatever the cached bytes say
		list, rt = cl, crt // crt carries the cached capability args
	}
	return m.del(ctx, n.Name, list, rt)
}

// DetachCached runs DEL for an attachment found in the cache, from its
// cached config alone: the network may no longer exist at all.
func (m *Manager) DetachCached(ctx context.Context, a *libcni.NetworkAttachment) error {
	if a == nil {
		return nil
	}
	list, err := libcni.NetworkConfFromBytes(a.Config)
	if err != nil {
		return fmt.Errorf("network %q: cached config of container %s: %w", a.Network, a.ContainerID, err)
	}
	// The cache is keyed by the name passed at ADD; keep it even if the
	// cached bytes say otherwise, or DEL would not find the cache entry.
	list.Name = a.Network
	unlock, err := m.LockNetworkShared(a.Network)
	if err != nil {
		return err
	}
	defer unlock()
	rt := &libcni.RuntimeConf{
		ContainerID:    a.ContainerID,
		NetNS:          liveNetNS(a.NetNS),
		IfName:         a.IfName,
		Args:           a.CniArgs,
		CapabilityArgs: a.CapabilityArgs,
	}
	return m.del(ctx, a.Network, list, rt)
}

func (m *Manager) del(ctx context.Context, network string, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	if err := m.checkPlugins(network, list); err != nil {
		return err
	}
	cfg, rec := m.config()
	if err := cfg.DelNetworkList(ctx, list, rt); err != nil {
		return wrapOp(network, "DEL", rec, err)
	}
	return nil
}

// liveNetNS returns path if it still names a network namespace, else "".
// The spec lets DEL run without a netns; plugins then release what lives
// outside it (leases, host rules). Passing a dead path instead would make
// some fail: the reference plugins accept a missing path but not, say, a
// pin file whose bind mount is already gone.
func liveNetNS(path string) string {
	if path == "" {
		return ""
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return ""
	}
	if st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		return ""
	}
	return path
}

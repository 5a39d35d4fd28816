package cni

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"

	"llcr/netconf"
)

// Attachments lists the cached attachments of container id, or of all
// containers when id is "" (libcni filters on id only when one is given).
func (m *Manager) Attachments(id string) ([]*libcni.NetworkAttachment, error) {
	cfg, _ := m.config()
	as, err := cfg.GetCachedAttachments(id)
	if err != nil {
		return nil, fmt.Errorf("list cached CNI attachments in %s: %w", m.cacheDir, err)
	}
	return as, nil
}

// GC runs CNI GC (spec 1.1) for network n: libcni first sends DEL for every
// cached attachment of n not in valid, then sends GC with valid as
// cni.dev/valid-attachments to plugins that implement it, so they can free
// what leaked without a cache entry. Configs older than 1.1.0 get only the
// first part.
func (m *Manager) GC(ctx context.Context, n *netconf.Network, valid []types.GCAttachment) error {
	if n == nil || n.List == nil {
		return fmt.Errorf("GC: no network given")
	}
	if err := m.checkPlugins(n.Name, n.List); err != nil {
		return err
	}
	unlock, err := m.LockNetworkExclusive(n.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if valid == nil {
		// Sent as JSON null, nil could read as "no list given" rather than
		// "nothing is valid"; an empty list is unambiguous.
		valid = []types.GCAttachment{}
	}
	cfg, _ := m.config()
	// libcni's errors here already name each stale attachment and plugin.
	if err := cfg.GCNetworkList(ctx, n.List, &libcni.GCArgs{ValidAttachments: valid}); err != nil {
		return fmt.Errorf("network %q: GC: %w", n.Name, err)
	}
	return nil
}

// Status runs CNI STATUS (spec 1.1): whether the network's plugins are
// ready to take ADDs. Older configs always report ready.
func (m *Manager) Status(ctx context.Context, n *netconf.Network) error {
	if n == nil || n.List == nil {
		return fmt.Errorf("STATUS: no network given")
	}
	if err := m.checkPlugins(n.Name, n.List); err != nil {
		return err
	}
	cfg, rec := m.config()
	return wrapOp(n.Name, "STATUS", rec, cfg.GetStatusNetworkList(ctx, n.List))
}

package network

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/containernetworking/cni/pkg/types"

	"llcr/cni"
	"llcr/netconf"
	"llcr/runtime/netns"
)

// reapStale tears down the networks of containers whose holder is gone —
// what a crashed runtime left — before a start adds to the same networks.
// Reading the cache is cheap; only stale entries cost plugin runs. A
// failure here must not fail the start, so errors are dropped.
func reapStale(ctx context.Context, mgr *cni.Manager, nets []*netconf.Network) {
	stale, _ := staleIDs(mgr)
	for _, id := range stale {
		reapOne(ctx, mgr, id)
	}
	if len(stale) > 0 {
		// Leases that leaked without a cache entry are found only by GC.
		for _, n := range nets {
			gcNetwork(ctx, mgr, n)
		}
	}
}

// staleIDs are the containers with cached attachments or pins whose owner
// is gone.
func staleIDs(mgr *cni.Manager) ([]string, error) {
	ids := map[string]bool{}
	atts, err := mgr.Attachments("")
	for _, a := range atts {
		ids[a.ContainerID] = true
	}
	if ents, _ := os.ReadDir(netns.Dir); ents != nil {
		for _, e := range ents {
			name := strings.TrimSuffix(e.Name(), ".owner")
			if !strings.HasSuffix(name, ".tmp") {
				ids[name] = true
			}
		}
	}
	var stale []string
	for id := range ids {
		if o, ok := readOwner(id); ok && o.alive() {
			continue
		}
		stale = append(stale, id)
	}
	return stale, err
}

func reapOne(ctx context.Context, mgr *cni.Manager, id string) error {
	unlock, err := mgr.Lock(id)
	if err != nil {
		return err
	}
	// Look again under the lock: the holder may have been between its
	// owner record and its first attach.
	if o, ok := readOwner(id); ok && o.alive() {
		unlock()
		return nil
	}
	err = teardown(ctx, mgr, id)
	unlock()
	return errors.Join(err, mgr.ForgetContainer(id))
}

// valid lists the cached attachments of network n whose owner is alive.
func valid(mgr *cni.Manager, n string) []types.GCAttachment {
	var out []types.GCAttachment
	atts, _ := mgr.Attachments("")
	for _, a := range atts {
		if a.Network != n {
			continue
		}
		if o, ok := readOwner(a.ContainerID); ok && o.alive() {
			out = append(out, types.GCAttachment{ContainerID: a.ContainerID, IfName: a.IfName})
		}
	}
	return out
}

func gcNetwork(ctx context.Context, mgr *cni.Manager, n *netconf.Network) error {
	return mgr.GC(ctx, n, valid(mgr, n.Name))
}

// GCReport says what GC removed.
type GCReport struct {
	Reaped   []string
	Networks []string
}

// GC tears down the networks of every container whose holder is gone, then
// runs CNI GC on every network with the live attachments as the valid set.
func GC(ctx context.Context, configDir string) (GCReport, error) {
	var rep GCReport
	mgr := cni.New(nil, "")
	stale, err := staleIDs(mgr)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range stale {
		if err := reapOne(ctx, mgr, id); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Reaped = append(rep.Reaped, id)
	}
	nets, err := netconf.DefaultLoader(configDir).List()
	if err != nil {
		errs = append(errs, err)
	}
	for _, n := range nets {
		if err := gcNetwork(ctx, mgr, n); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Networks = append(rep.Networks, n.Name)
	}
	errs = append(errs, prunePortmap(mgr))
	return rep, errors.Join(errs...)
}

// Pinned reports whether container id has a pinned network namespace.
func Pinned(id string) bool {
	_, err := os.Stat(netns.Path(id))
	return err == nil
}

// Reap tears down container id's network if its holder and process are
// gone; a live owner keeps it (the holder will tear it down itself).
func Reap(ctx context.Context, id string) error {
	return reapOne(ctx, cni.New(nil, ""), id)
}

// Users lists the containers with a live attachment to network name.
func Users(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range valid(cni.New(nil, ""), name) {
		if !seen[a.ContainerID] {
			seen[a.ContainerID] = true
			out = append(out, a.ContainerID)
		}
	}
	return out
}

package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	types100 "github.com/containernetworking/cni/pkg/types/100"

	"llcr/cni"
	"llcr/netconf"
	"llcr/runtime/netns"
	"llcr/runtime/state"
)

// Attachment is what one network gave the container, for state.json,
// `container inspect` and `container list`.
type Attachment struct {
	Network  string   `json:"network"`
	IfName   string   `json:"ifname"`
	MAC      string   `json:"mac,omitempty"`
	IPs      []string `json:"ips,omitempty"`
	Gateways []string `json:"gateways,omitempty"`
	Ports    []Port   `json:"ports,omitempty"`
}

// Setup is a container's live network: the pinned namespace, its
// attachments and the reserved ports. Its holder (the process that called
// Up) keeps it until Down.
type Setup struct {
	ID          string
	NetNS       string
	Attachments []Attachment
	DNS         []string
	Search      []string
	mgr         *cni.Manager
	nets        []*netconf.Network
	ports       []io.Closer
	owner       owner
}

// Up makes the container's network before its process exists: every
// network is resolved first (bad names fail before anything is made), what a
// crashed runtime left is reaped, the ports are reserved, the namespace is
// pinned, and each network is attached in order (eth0, eth1, ...). On error
// everything done is undone.
func Up(ctx context.Context, id, stateDir string, req *Request) (_ *Setup, err error) {
	loader := netconf.DefaultLoader(req.ConfigDir)
	nets := make([]*netconf.Network, 0, len(req.Networks))
	for _, n := range req.Networks {
		net, err := loader.Get(n.Name)
		if err != nil {
			return nil, err
		}
		nets = append(nets, net)
	}
	mgr := cni.New(nil, "")
	reapStale(ctx, mgr, nets)

	s := &Setup{ID: id, NetNS: netns.Path(id), mgr: mgr}
	// Registered before the lock, so it runs after the unlock below:
	// forgetting the container takes the lock itself.
	defer func() {
		if err != nil {
			s.Down(ctx)
		}
	}()
	unlock, err := mgr.Lock(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s.ports, err = reservePorts(req.Publish); err != nil {
		return nil, err
	}
	if len(req.Publish) > 0 {
		unlockPM, err := mgr.LockPortmap(false)
		if err != nil {
			return nil, err
		}
		defer unlockPM()
	}
	// The owner record goes first: whatever exists from here on can be
	// traced back to a holder, and reaped once the holder is gone.
	s.owner = owner{StateDir: stateDir, Holder: os.Getpid()}
	s.owner.HolderStart, _ = state.StartTime(os.Getpid())
	if err := writeOwner(id, s.owner); err != nil {
		return nil, err
	}
	if err := netns.Create(s.NetNS); err != nil {
		return nil, err
	}
	for i, n := range nets {
		r := req.Networks[i]
		caps := map[string]interface{}{}
		var ports []Port
		if i == 0 && len(req.Publish) > 0 {
			ports = req.Publish
			caps["portMappings"] = req.Publish
		} else {
			n = withoutIdlePortmap(n)
		}
		if r.IP != "" {
			caps["ips"] = []string{r.IP}
		}
		if r.MAC != "" {
			caps["mac"] = r.MAC
		}
		res, err := mgr.Attach(ctx, id, s.NetNS, r.IfName, n, caps)
		if err != nil {
			return nil, err
		}
		s.nets = append(s.nets, n)
		a := attachment(n.Name, r.IfName, res)
		a.Ports = ports
		s.Attachments = append(s.Attachments, a)
		s.DNS = append(s.DNS, res.DNS.Nameservers...)
		s.Search = append(s.Search, res.DNS.Search...)
	}
	// --dns is the user's explicit choice: it replaces what the networks
	// suggest rather than being tried before them.
	if len(req.DNS) > 0 {
		s.DNS = req.DNS
	}
	return s, nil
}

// attachment picks the container-side interface and its addresses out of a
// CNI result.
func attachment(network, ifname string, res *types100.Result) Attachment {
	a := Attachment{Network: network, IfName: ifname}
	idx := -1
	for i, iface := range res.Interfaces {
		if iface.Sandbox != "" && iface.Name == ifname {
			idx, a.MAC = i, iface.Mac
		}
	}
	for _, ip := range res.IPs {
		if ip.Interface != nil && idx >= 0 && *ip.Interface != idx {
			continue
		}
		a.IPs = append(a.IPs, ip.Address.String())
		if ip.Gateway != nil {
			a.Gateways = append(a.Gateways, ip.Gateway.String())
		}
	}
	return a
}

// SetPid records the container's init in the owner record.
func (s *Setup) SetPid(pid int) error {
	s.owner.Pid = pid
	s.owner.PidStart, _ = state.StartTime(pid)
	return writeOwner(s.ID, s.owner)
}

// Down tears the network down: DEL for every attachment in reverse order
// (from the cache, so edits to the network files since do not matter), the
// ports released, the namespace unpinned. It tries every step and reports
// all failures.
func (s *Setup) Down(ctx context.Context) error {
	unlock, err := s.mgr.Lock(s.ID)
	if err != nil {
		return err
	}
	err = s.down(ctx)
	unlock()
	// After the unlock: forgetting takes the container's lock itself.
	return errors.Join(err, s.mgr.ForgetContainer(s.ID))
}

func (s *Setup) down(ctx context.Context) error {
	var errs []error
	for i := len(s.nets) - 1; i >= 0; i-- {
		if err := s.mgr.Detach(ctx, s.ID, s.NetNS, s.Attachments[i].IfName, s.nets[i]); err != nil {
			errs = append(errs, err)
		}
	}
	s.nets = nil
	if len(s.ports) > 0 {
		errs = append(errs, prunePortmap(s.mgr))
	}
	for _, p := range s.ports {
		p.Close()
	}
	s.ports = nil
	errs = append(errs, netns.Remove(s.NetNS), removeOwner(s.ID))
	return errors.Join(errs...)
}

// Teardown removes container id's network when its holder is gone (a
// runtime that was SIGKILLed): DEL of every cached attachment, then the pin.
func Teardown(ctx context.Context, id string) error {
	mgr := cni.New(nil, "")
	unlock, err := mgr.Lock(id)
	if err != nil {
		return err
	}
	err = teardown(ctx, mgr, id)
	unlock()
	return errors.Join(err, mgr.ForgetContainer(id))
}

func teardown(ctx context.Context, mgr *cni.Manager, id string) error {
	atts, err := mgr.Attachments(id)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range atts {
		if err := mgr.DetachCached(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", id, err))
		}
	}
	if len(atts) > 0 {
		errs = append(errs, prunePortmap(mgr))
	}
	errs = append(errs, netns.Remove(netns.Path(id)), removeOwner(id))
	return errors.Join(errs...)
}

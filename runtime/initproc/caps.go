package initproc

import (
	"fmt"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CapabilityByName maps "CAP_CHOWN" to its number (names the kernel knows
// of, per the library's list).
func CapabilityByName(name string) (capability.Cap, bool) {
	for _, c := range capability.ListKnown() {
		if "CAP_"+strings.ToUpper(c.String()) == name {
			return c, true
		}
	}
	return 0, false
}

type capSets struct {
	c    capability.Capabilities
	spec *specs.LinuxCapabilities
}

func newCapabilities(s *specs.LinuxCapabilities) (*capSets, error) {
	c, err := capability.NewPid2(0)
	if err != nil {
		return nil, fmt.Errorf("read capabilities: %w", err)
	}
	if s == nil {
		s = &specs.LinuxCapabilities{}
	}
	return &capSets{c: c, spec: s}, nil
}

func (cs *capSets) set(which capability.CapType, names []string, field string) error {
	for _, n := range names {
		c, ok := CapabilityByName(n)
		if !ok {
			return fmt.Errorf("process.capabilities.%s: unknown capability %q", field, n)
		}
		cs.c.Set(which, c)
	}
	return nil
}

// dropBounding limits the bounding set first: it needs CAP_SETPCAP, which
// the later steps take away.
func (cs *capSets) dropBounding() error {
	cs.c.Clear(capability.BOUNDS)
	if err := cs.set(capability.BOUNDING, cs.spec.Bounding, "bounding"); err != nil {
		return err
	}
	if err := cs.c.Apply(capability.BOUNDS); err != nil {
		return fmt.Errorf("drop capabilities from the bounding set: %w", err)
	}
	return nil
}

// apply sets effective, permitted, inheritable and ambient, after the uid
// switch (which, with KEEPCAPS, kept the permitted set).
func (cs *capSets) apply() error {
	cs.c.Clear(capability.CAPS | capability.AMBS)
	for _, s := range []struct {
		which capability.CapType
		names []string
		field string
	}{
		{capability.EFFECTIVE, cs.spec.Effective, "effective"},
		{capability.PERMITTED, cs.spec.Permitted, "permitted"},
		{capability.INHERITABLE, cs.spec.Inheritable, "inheritable"},
		{capability.AMBIENT, cs.spec.Ambient, "ambient"},
	} {
		if err := cs.set(s.which, s.names, s.field); err != nil {
			return err
		}
	}
	if err := cs.c.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	if err := cs.c.Apply(capability.AMBS); err != nil {
		return fmt.Errorf("set ambient capabilities: %w", err)
	}
	return nil
}

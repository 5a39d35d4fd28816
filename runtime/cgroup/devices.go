package cgroup

import (
	"fmt"
	"strings"

	// Registers the device managers: the v1 devices.allow/deny writer and the
	// v2 eBPF filter. Without it the library refuses device rules.
	_ "github.com/opencontainers/cgroups/devices"
	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// convertDevices turns the spec's allow/deny list into library rules. No
// rules means "leave device access alone": an empty rule list would
// otherwise deny every device, /dev/null included.
func convertDevices(_ *host, r *specs.LinuxResources, c *converted) error {
	if len(r.Devices) == 0 {
		return nil
	}
	rules := make([]*devconfig.Rule, 0, len(r.Devices))
	for i, d := range r.Devices {
		rule, err := deviceRule(d)
		if err != nil {
			return fmt.Errorf("device cgroup rule %d: %w", i, err)
		}
		rules = append(rules, rule)
	}
	c.res.Devices = rules
	c.res.SkipDevices = false
	c.needs("devices")
	return nil
}

func deviceRule(d specs.LinuxDeviceCgroup) (*devconfig.Rule, error) {
	var t devconfig.Type
	switch d.Type {
	case "", "a":
		t = devconfig.WildcardDevice
	case "b":
		t = devconfig.BlockDevice
	case "c":
		t = devconfig.CharDevice
	default:
		return nil, fmt.Errorf("invalid device type %q (want a, b or c)", d.Type)
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	if strings.Trim(access, "rwm") != "" {
		return nil, fmt.Errorf("invalid device access %q (want letters of rwm)", d.Access)
	}
	number := func(p *int64) int64 {
		if p == nil {
			return devconfig.Wildcard
		}
		return *p
	}
	return &devconfig.Rule{
		Type:        t,
		Major:       number(d.Major),
		Minor:       number(d.Minor),
		Permissions: devconfig.Permissions(access),
		Allow:       d.Allow,
	}, nil
}

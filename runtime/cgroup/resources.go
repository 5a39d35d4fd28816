package cgroup

import (
	"errors"
	"fmt"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// converted is the library's form of the spec's resources plus the v1
// controllers that must exist for them.
type converted struct {
	res  *cgroups.Resources
	need []string
}

// convert maps spec resources onto the library's, rejecting what llcr cannot
// honour on this host rather than silently dropping a limit.
func convert(h *host, r *specs.LinuxResources) (*converted, error) {
	c := &converted{res: &cgroups.Resources{SkipDevices: true}}
	if r == nil {
		return c, nil
	}
	if r.Network != nil {
		return nil, errors.New("network cgroup limits (net_cls/net_prio) are not supported yet")
	}
	if len(r.Rdma) > 0 {
		return nil, errors.New("rdma cgroup limits are not supported yet")
	}
	if len(r.Unified) > 0 {
		if h.mode != modeV2 {
			return nil, fmt.Errorf("unified cgroup settings need a cgroup v2 host, this one is %s", h.mode)
		}
		c.res.Unified = r.Unified
	}
	steps := []func(*host, *specs.LinuxResources, *converted) error{
		convertMemory, convertCPU, convertPids, convertBlockIO, convertHugetlb, convertDevices,
	}
	for _, step := range steps {
		if err := step(h, r, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *converted) needs(controller string) { c.need = append(c.need, controller) }

func convertMemory(h *host, r *specs.LinuxResources, c *converted) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	if m.Kernel != nil || m.KernelTCP != nil {
		return errors.New("kernel memory limits are not supported (deprecated by the kernel)")
	}
	if m.UseHierarchy != nil && !*m.UseHierarchy {
		return errors.New("memory useHierarchy=false is not supported: the kernel always accounts hierarchically")
	}
	v2 := h.mode == modeV2
	res := c.res
	set := false
	if m.Limit != nil && *m.Limit != 0 {
		if *m.Limit < -1 {
			return fmt.Errorf("invalid memory limit %d", *m.Limit)
		}
		res.Memory = *m.Limit
		set = true
	}
	if m.Reservation != nil && *m.Reservation != 0 {
		res.MemoryReservation = *m.Reservation
		set = true
	}
	// Without an explicit swap limit a memory limit also caps swap, so the
	// limit means what users expect (docker does the same).
	swap := res.Memory
	if m.Swap != nil {
		swap = *m.Swap
	}
	if swap != 0 {
		if !v2 && !h.memsw {
			if swap != res.Memory && swap != -1 {
				return fmt.Errorf("memory+swap limit %d needs swap accounting, which this host lacks (no memory.memsw.limit_in_bytes)", swap)
			}
		} else {
			if swap > 0 && res.Memory == 0 {
				return fmt.Errorf("memory+swap limit %d needs a memory limit too", swap)
			}
			if swap > 0 && res.Memory > 0 && swap < res.Memory {
				return fmt.Errorf("memory+swap limit %d is below the memory limit %d", swap, res.Memory)
			}
			res.MemorySwap = swap
			set = true
		}
	}
	if m.Swappiness != nil {
		if v2 {
			return errors.New("memory swappiness is not supported on cgroup v2")
		}
		if *m.Swappiness > 100 {
			return fmt.Errorf("invalid memory swappiness %d (valid range is 0-100)", *m.Swappiness)
		}
		v := *m.Swappiness
		res.MemorySwappiness = &v
		set = true
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		if v2 {
			return errors.New("disabling the OOM killer is not supported on cgroup v2")
		}
		res.OomKillDisable = true
		set = true
	}
	if m.CheckBeforeUpdate != nil {
		res.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
	}
	if set {
		c.needs("memory")
	}
	return nil
}

func convertCPU(h *host, r *specs.LinuxResources, c *converted) error {
	p := r.CPU
	if p == nil {
		return nil
	}
	v2 := h.mode == modeV2
	res := c.res
	set := false
	if p.Shares != nil && *p.Shares != 0 {
		if v2 {
			res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*p.Shares)
		} else {
			res.CpuShares = *p.Shares
		}
		set = true
	}
	if p.Quota != nil && *p.Quota != 0 {
		res.CpuQuota = *p.Quota
		set = true
	}
	if p.Period != nil && *p.Period != 0 {
		res.CpuPeriod = *p.Period
		set = true
	}
	if p.Burst != nil {
		b := *p.Burst
		res.CpuBurst = &b
		set = true
	}
	if p.Idle != nil {
		i := *p.Idle
		res.CPUIdle = &i
		set = true
	}
	if (p.RealtimeRuntime != nil && *p.RealtimeRuntime != 0) || (p.RealtimePeriod != nil && *p.RealtimePeriod != 0) {
		if v2 {
			return errors.New("realtime cpu limits are not supported on cgroup v2")
		}
		if p.RealtimeRuntime != nil {
			res.CpuRtRuntime = *p.RealtimeRuntime
		}
		if p.RealtimePeriod != nil {
			res.CpuRtPeriod = *p.RealtimePeriod
		}
		set = true
	}
	if set {
		c.needs("cpu")
	}
	if p.Cpus != "" || p.Mems != "" {
		res.CpusetCpus = p.Cpus
		res.CpusetMems = p.Mems
		c.needs("cpuset")
	}
	return nil
}

func convertPids(_ *host, r *specs.LinuxResources, c *converted) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	l := *r.Pids.Limit
	c.res.PidsLimit = &l
	c.needs("pids")
	return nil
}

func convertBlockIO(_ *host, r *specs.LinuxResources, c *converted) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	res := c.res
	if b.Weight != nil {
		res.BlkioWeight = *b.Weight
	}
	if b.LeafWeight != nil {
		res.BlkioLeafWeight = *b.LeafWeight
	}
	for _, d := range b.WeightDevice {
		var w, lw uint16
		if d.Weight != nil {
			w = *d.Weight
		}
		if d.LeafWeight != nil {
			lw = *d.LeafWeight
		}
		res.BlkioWeightDevice = append(res.BlkioWeightDevice, cgroups.NewWeightDevice(d.Major, d.Minor, w, lw))
	}
	throttle := func(in []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
		var out []*cgroups.ThrottleDevice
		for _, d := range in {
			out = append(out, cgroups.NewThrottleDevice(d.Major, d.Minor, d.Rate))
		}
		return out
	}
	res.BlkioThrottleReadBpsDevice = throttle(b.ThrottleReadBpsDevice)
	res.BlkioThrottleWriteBpsDevice = throttle(b.ThrottleWriteBpsDevice)
	res.BlkioThrottleReadIOPSDevice = throttle(b.ThrottleReadIOPSDevice)
	res.BlkioThrottleWriteIOPSDevice = throttle(b.ThrottleWriteIOPSDevice)
	if res.BlkioWeight != 0 || res.BlkioLeafWeight != 0 || len(res.BlkioWeightDevice) > 0 ||
		len(res.BlkioThrottleReadBpsDevice)+len(res.BlkioThrottleWriteBpsDevice)+
			len(res.BlkioThrottleReadIOPSDevice)+len(res.BlkioThrottleWriteIOPSDevice) > 0 {
		c.needs("blkio")
	}
	return nil
}

func convertHugetlb(_ *host, r *specs.LinuxResources, c *converted) error {
	for _, l := range r.HugepageLimits {
		if l.Pagesize == "" {
			return errors.New("hugepage limit without a page size")
		}
		c.res.HugetlbLimit = append(c.res.HugetlbLimit, &cgroups.HugepageLimit{Pagesize: l.Pagesize, Limit: l.Limit})
	}
	if len(r.HugepageLimits) > 0 {
		c.needs("hugetlb")
	}
	return nil
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/spec"
)

// UpdateCmd is runc's `update`: new cgroup limits for a live container,
// from a resources JSON file (-r, "-" is stdin) or from flags.
type UpdateCmd struct {
	Resources         string `short:"r" help:"File of specs.LinuxResources JSON (- for stdin)."`
	Memory            string `help:"Memory limit (512M, 1G or bytes; --memory=-1: none)."`
	MemorySwap        string `name:"memory-swap" help:"Memory+swap limit (--memory-swap=-1: none)."`
	MemoryReservation string `name:"memory-reservation" help:"Memory soft limit."`
	CPUQuota          string `name:"cpu-quota" help:"CFS quota in microseconds per period (-1: none)."`
	CPUPeriod         string `name:"cpu-period" help:"CFS period in microseconds."`
	CPUShares         string `name:"cpu-shares" help:"CPU shares (relative weight)."`
	CpusetCpus        string `name:"cpuset-cpus" help:"CPUs the container may use (0-3, 0,1)."`
	CpusetMems        string `name:"cpuset-mems" help:"Memory nodes the container may use."`
	PidsLimit         string `name:"pids-limit" help:"Maximum number of processes (--pids-limit=-1: none)."`
	ID                string `arg:"" help:"Container id."`
}

func (c *UpdateCmd) Run(g *Globals) error {
	r, err := c.resources()
	if err != nil {
		return err
	}
	store := g.store()
	if _, _, err := live(g, c.ID, true); err != nil {
		return err
	}
	// Under the lock so two updates cannot interleave their config writes.
	unlock, err := store.Lock(c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	_, cg, err := live(g, c.ID, true)
	if err != nil {
		return err
	}
	if m := r.Memory; m != nil && m.Limit == nil && m.Swap != nil && *m.Swap > 0 {
		// A swap limit alone is relative to the memory limit in force.
		if l := cg.MemoryLimit(); l > 0 {
			m.Limit = &l
		}
	}
	if err := cg.Update(r); err != nil {
		return fmt.Errorf("update container %s: %w", c.ID, err)
	}
	return recordResources(store.Dir(c.ID), r)
}

// resources builds the update from -r or the flags; they do not mix.
func (c *UpdateCmd) resources() (*specs.LinuxResources, error) {
	flagsSet := c.Memory != "" || c.MemorySwap != "" || c.MemoryReservation != "" || c.CPUQuota != "" ||
		c.CPUPeriod != "" || c.CPUShares != "" || c.CpusetCpus != "" || c.CpusetMems != "" || c.PidsLimit != ""
	if c.Resources != "" {
		if flagsSet {
			return nil, fmt.Errorf("-r %s and the limit flags do not mix: put every limit in the file", c.Resources)
		}
		return readResources(c.Resources)
	}
	if !flagsSet {
		return nil, fmt.Errorf("nothing to update: give -r FILE or a limit flag such as --memory")
	}
	r := &specs.LinuxResources{}
	mem := func(flag, v string) (*int64, error) {
		if v == "" {
			return nil, nil
		}
		if v == "-1" {
			n := int64(-1)
			return &n, nil
		}
		n, err := spec.ParseSize(v)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		return &n, nil
	}
	limit, err := mem("memory", c.Memory)
	if err != nil {
		return nil, err
	}
	swap, err := mem("memory-swap", c.MemorySwap)
	if err != nil {
		return nil, err
	}
	resv, err := mem("memory-reservation", c.MemoryReservation)
	if err != nil {
		return nil, err
	}
	if limit != nil || swap != nil || resv != nil {
		r.Memory = &specs.LinuxMemory{Limit: limit, Swap: swap, Reservation: resv}
	}
	quota, err := intFlag("cpu-quota", c.CPUQuota)
	if err != nil {
		return nil, err
	}
	period, err := uintFlag("cpu-period", c.CPUPeriod)
	if err != nil {
		return nil, err
	}
	shares, err := uintFlag("cpu-shares", c.CPUShares)
	if err != nil {
		return nil, err
	}
	if quota != nil || period != nil || shares != nil || c.CpusetCpus != "" || c.CpusetMems != "" {
		r.CPU = &specs.LinuxCPU{Quota: quota, Period: period, Shares: shares, Cpus: c.CpusetCpus, Mems: c.CpusetMems}
	}
	pids, err := intFlag("pids-limit", c.PidsLimit)
	if err != nil {
		return nil, err
	}
	if pids != nil && *pids == 0 {
		// The kernel has no "0 processes"; the cgroup library would write 1.
		return nil, fmt.Errorf("--pids-limit 0: give at least 1, or --pids-limit=-1 for no limit")
	}
	if pids != nil {
		r.Pids = &specs.LinuxPids{Limit: pids}
	}
	return r, nil
}

func intFlag(name, v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want an integer", name, v)
	}
	return &n, nil
}

func uintFlag(name, v string) (*uint64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want a non-negative integer", name, v)
	}
	return &n, nil
}

func readResources(path string) (*specs.LinuxResources, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read resources %s: %w", path, err)
	}
	var r specs.LinuxResources
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode resources %s: %w", path, err)
	}
	return &r, nil
}

// recordResources merges the update into the saved config.json, when the
// container has one, so later readers (delete's cgroup fallback, a later
// update) see the limits in force. The file is replaced atomically.
func recordResources(dir string, r *specs.LinuxResources) error {
	s, err := readSpec(dir)
	if err != nil {
		// Foreground runs keep no config.json: nothing to record.
		return nil
	}
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	mergeResources(s.Linux.Resources, r)
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*")
	if err != nil {
		return fmt.Errorf("record updated limits in %s: %w", dir, err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, configFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("record updated limits in %s: %w", dir, err)
	}
	return nil
}

// mergeResources sets in dst every setting src has.
func mergeResources(dst, src *specs.LinuxResources) {
	if m := src.Memory; m != nil {
		if dst.Memory == nil {
			dst.Memory = &specs.LinuxMemory{}
		}
		setPtr(&dst.Memory.Limit, m.Limit)
		setPtr(&dst.Memory.Swap, m.Swap)
		setPtr(&dst.Memory.Reservation, m.Reservation)
		setPtr(&dst.Memory.Swappiness, m.Swappiness)
		setPtr(&dst.Memory.DisableOOMKiller, m.DisableOOMKiller)
		if m.Limit != nil && m.Swap == nil {
			// The update capped swap to the new limit (see cgroup's convert).
			dst.Memory.Swap = nil
		}
	}
	if c := src.CPU; c != nil {
		if dst.CPU == nil {
			dst.CPU = &specs.LinuxCPU{}
		}
		setPtr(&dst.CPU.Shares, c.Shares)
		setPtr(&dst.CPU.Quota, c.Quota)
		setPtr(&dst.CPU.Burst, c.Burst)
		setPtr(&dst.CPU.Period, c.Period)
		setPtr(&dst.CPU.RealtimeRuntime, c.RealtimeRuntime)
		setPtr(&dst.CPU.RealtimePeriod, c.RealtimePeriod)
		setPtr(&dst.CPU.Idle, c.Idle)
		if c.Cpus != "" {
			dst.CPU.Cpus = c.Cpus
		}
		if c.Mems != "" {
			dst.CPU.Mems = c.Mems
		}
	}
	if src.Pids != nil {
		dst.Pids = src.Pids
	}
	if src.BlockIO != nil {
		dst.BlockIO = src.BlockIO
	}
	if len(src.HugepageLimits) > 0 {
		dst.HugepageLimits = src.HugepageLimits
	}
	for k, v := range src.Unified {
		if dst.Unified == nil {
			dst.Unified = map[string]string{}
		}
		dst.Unified[k] = v
	}
}

func setPtr[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

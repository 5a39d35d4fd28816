package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: unix.SCHED_NORMAL, specs.SchedFIFO: unix.SCHED_FIFO, specs.SchedRR: unix.SCHED_RR,
	specs.SchedBatch: unix.SCHED_BATCH, specs.SchedIdle: unix.SCHED_IDLE, specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: unix.SCHED_FLAG_RESET_ON_FORK, specs.SchedFlagReclaim: unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun: unix.SCHED_FLAG_DL_OVERRUN, specs.SchedFlagKeepPolicy: unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams: unix.SCHED_FLAG_KEEP_PARAMS, specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

// SchedAttr checks s the way sched_setattr(2) would and builds its
// argument, so a bundle fails at validation rather than at the start.
// SCHED_ISO is in the spec but not in Linux.
func SchedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	pol, ok := schedPolicies[s.Policy]
	if !ok {
		return nil, fmt.Errorf("policy %q: unknown or not supported by Linux", s.Policy)
	}
	a := &unix.SchedAttr{Policy: pol, Nice: s.Nice, Priority: uint32(s.Priority),
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period}
	for _, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return nil, fmt.Errorf("flags: unknown flag %q", f)
		}
		a.Flags |= v
	}
	if s.Nice < -20 || s.Nice > 19 {
		return nil, fmt.Errorf("nice %d: out of range -20..19", s.Nice)
	}
	rt := pol == unix.SCHED_FIFO || pol == unix.SCHED_RR
	if rt && (s.Priority < 1 || s.Priority > 99) {
		return nil, fmt.Errorf("priority %d: %s needs 1..99", s.Priority, s.Policy)
	}
	if !rt && s.Priority != 0 {
		return nil, fmt.Errorf("priority %d: only SCHED_FIFO and SCHED_RR take a priority", s.Priority)
	}
	if pol != unix.SCHED_DEADLINE && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return nil, fmt.Errorf("runtime, deadline and period are for SCHED_DEADLINE only, not %s", s.Policy)
	}
	if pol == unix.SCHED_DEADLINE && (s.Runtime == 0 || s.Runtime > s.Deadline || (s.Period != 0 && s.Deadline > s.Period)) {
		return nil, fmt.Errorf("SCHED_DEADLINE needs 0 < runtime <= deadline <= period (period 0 means deadline)")
	}
	return a, nil
}

// setScheduler runs before the capabilities drop: real-time policies need
// CAP_SYS_NICE.
func setScheduler(s *specs.Scheduler) error {
	a, err := SchedAttr(s)
	if err != nil {
		return fmt.Errorf("process.scheduler: %w", err)
	}
	if err := unix.SchedSetAttr(0, a, 0); err != nil {
		return fmt.Errorf("set scheduler %s (nice %d, priority %d): %w", s.Policy, s.Nice, s.Priority, err)
	}
	return nil
}

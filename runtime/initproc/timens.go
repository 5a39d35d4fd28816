package initproc

import (
	"fmt"
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TimeOffsetsInChild: with linux.timeOffsets the time namespace is made by
// the init, not by the clone. Offsets can be written only while no task is
// in the namespace, and a clone puts the child in at once; unshare puts
// only the caller's future children (and, since Linux 5.11, the caller
// itself at its next exec) in it, which leaves the window to write them.
func TimeOffsetsInChild(s *specs.Spec) bool {
	return s.Linux != nil && len(s.Linux.TimeOffsets) > 0 && hasNewNamespace(s, specs.TimeNamespace)
}

// CheckTimeOffsets validates the clocks and values the kernel accepts.
func CheckTimeOffsets(m map[string]specs.LinuxTimeOffset) error {
	for clock, o := range m {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("%q: not a clock a time namespace offsets (monotonic or boottime)", clock)
		}
		if o.Nanosecs >= 1e9 {
			return fmt.Errorf("%s.nanosecs: %d is not below one second", clock, o.Nanosecs)
		}
	}
	return nil
}

// setupTimeNS runs first thing, while the init still has CAP_SYS_TIME. It
// unshares on the locked main thread, the thread group leader, which is
// both the task /proc/self names and the one that execs.
func setupTimeNS(m map[string]specs.LinuxTimeOffset) error {
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare time namespace: %w", err)
	}
	clocks := make([]string, 0, len(m))
	for c := range m {
		clocks = append(clocks, c)
	}
	sort.Strings(clocks)
	var b strings.Builder
	for _, c := range clocks {
		fmt.Fprintf(&b, "%s %d %d\n", c, m[c].Secs, m[c].Nanosecs)
	}
	if err := os.WriteFile("/proc/self/timens_offsets", []byte(b.String()), 0); err != nil {
		return fmt.Errorf("write time namespace offsets %q: %w", strings.TrimSpace(b.String()), err)
	}
	return nil
}

package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Execution domains of personality(2) (linux/personality.h).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// Personality maps an OCI domain to personality(2)'s value. No flags are
// defined by the spec.
func Personality(p *specs.LinuxPersonality) (uintptr, error) {
	if len(p.Flags) > 0 {
		return 0, fmt.Errorf("flags %v: no personality flags are supported", p.Flags)
	}
	switch p.Domain {
	case specs.PerLinux:
		return perLinux, nil
	case specs.PerLinux32:
		return perLinux32, nil
	}
	return 0, fmt.Errorf("domain %q: unknown (want %s or %s)", p.Domain, specs.PerLinux, specs.PerLinux32)
}

// setPersonality runs just before the exec: it survives it and changes
// what the user's process sees (uname -m), not what the init does.
func setPersonality(l *specs.Linux) error {
	if l == nil || l.Personality == nil {
		return nil
	}
	v, err := Personality(l.Personality)
	if err != nil {
		return fmt.Errorf("linux.personality: %w", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, v, 0, 0); e != 0 {
		return fmt.Errorf("set personality %s: %w", l.Personality.Domain, e)
	}
	return nil
}

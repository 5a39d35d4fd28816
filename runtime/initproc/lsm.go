package initproc

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// applyLSM asks the kernel to switch to the AppArmor profile or SELinux
// label at the next exec, the way runc does. Package bundle has already
// refused a profile or label for an LSM the host lacks.
func applyLSM(p *specs.Process) error {
	if p.ApparmorProfile != "" {
		attr := "/proc/thread-self/attr/apparmor/exec"
		if _, err := os.Stat(attr); err != nil {
			attr = "/proc/thread-self/attr/exec"
		}
		if err := os.WriteFile(attr, []byte("exec "+p.ApparmorProfile), 0); err != nil {
			return fmt.Errorf("set AppArmor profile %q: %w", p.ApparmorProfile, err)
		}
	}
	if p.SelinuxLabel != "" {
		if err := os.WriteFile("/proc/thread-self/attr/exec", []byte(p.SelinuxLabel), 0); err != nil {
			return fmt.Errorf("set SELinux label %q: %w", p.SelinuxLabel, err)
		}
	}
	return nil
}

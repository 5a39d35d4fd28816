package bundle

import (
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The init applies a profile or label by writing it to /proc/self/attr
// before its exec; on a host without the LSM that write fails late and
// obscurely, so a bundle asking for one is refused here. Empty means none.
func validateLSM(p *specs.Process) error {
	if p.ApparmorProfile != "" && !AppArmorEnabled() {
		return fmt.Errorf("process.apparmorProfile: %q given but AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !SELinuxEnabled() {
		return fmt.Errorf("process.selinuxLabel: %q given but SELinux is not enabled on this host", p.SelinuxLabel)
	}
	return nil
}

// AppArmorEnabled reports whether the kernel has AppArmor active.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// SELinuxEnabled reports whether selinuxfs is mounted, which is how
// libselinux decides.
func SELinuxEnabled() bool {
	for _, p := range []string{"/sys/fs/selinux/enforce", "/selinux/enforce"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

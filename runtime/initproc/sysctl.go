package initproc

import (
	"fmt"
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ipcSysctls are the kernel.* keys the IPC namespace owns; fs.mqueue.* is
// owned by it too.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// CheckSysctl says why key may not be set in the container described by s,
// or nil. Only keys a namespace of the container owns are allowed: any
// other would change the host for everyone (runc's rule).
func CheckSysctl(s *specs.Spec, key string) error {
	if key == "" || strings.Contains(key, "/") || strings.Contains(key, "..") ||
		strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") {
		return fmt.Errorf("sysctl %q: not a valid key (dot-separated, no '/' or '..')", key)
	}
	need := func(t specs.LinuxNamespaceType) error {
		if !hasNamespace(s, t) {
			return fmt.Errorf("sysctl %q: needs a private %s namespace in linux.namespaces", key, t)
		}
		return nil
	}
	switch {
	case ipcSysctls[key] || strings.HasPrefix(key, "fs.mqueue."):
		return need(specs.IPCNamespace)
	case key == "kernel.hostname" || key == "kernel.domainname":
		if key == "kernel.hostname" && s.Hostname != "" {
			return fmt.Errorf("sysctl %q: conflicts with hostname %q", key, s.Hostname)
		}
		if key == "kernel.domainname" && s.Domainname != "" {
			return fmt.Errorf("sysctl %q: conflicts with domainname %q", key, s.Domainname)
		}
		return need(specs.UTSNamespace)
	case strings.HasPrefix(key, "net."):
		return need(specs.NetworkNamespace)
	}
	return fmt.Errorf("sysctl %q: not namespaced: it would change the host", key)
}

// hasNamespace: the container gets its own t, new or joined.
func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// writeSysctls sets the spec's sysctls through the container's /proc, which
// reaches the container's namespaces (never the host's: the file must be
// on a procfs). Sorted, so a failure is reproducible.
func writeSysctls(m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := writeSysctl(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

func writeSysctl(key, value string) error {
	if strings.Contains(key, "/") || strings.Contains(key, "..") {
		return fmt.Errorf("sysctl %q: not a valid key", key)
	}
	p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	f, err := os.OpenFile(p, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set sysctl %s: %w", key, err)
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("set sysctl %s: %s is not on the container's procfs (is /proc mounted?)", key, p)
	}
	if _, err := f.WriteString(value); err != nil {
		return fmt.Errorf("set sysctl %s to %q: %w", key, value, err)
	}
	return nil
}

package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// The container's init is bin/llcr-init, found next to the runtime binary
// (or installed in /usr/libexec/llcr); without it the runtime binary itself
// serves, re-executed with the init argument. A separate binary because it
// starts on every container start, and a binary holding only the init's
// code starts in about half the time of the whole runtime.
var initCandidates = func(exe string) []string {
	return []string{filepath.Join(filepath.Dir(exe), "llcr-init"), "/usr/libexec/llcr/llcr-init", exe}
}

// A process in the container could reach the init binary through
// /proc/<pid>/exe and, were the file writable, overwrite the host's copy
// (CVE-2019-5736). We exec it from a detached read-only bind of the binary:
// open_tree plus mount_setattr are two syscalls, against a copy into a memfd
// that cost runc most of its start time. A binary that already sits on a
// read-only mount needs nothing.
var sealed struct {
	once sync.Once
	fd   int
	path string
	err  error
}

func sealedInit() (string, error) {
	sealed.once.Do(func() {
		sealed.path, sealed.fd, sealed.err = sealInit()
	})
	return sealed.path, sealed.err
}

func findInit() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the runtime binary: %w", err)
	}
	for _, p := range initCandidates(exe) {
		if unix.Access(p, unix.X_OK) == nil {
			return p, nil
		}
	}
	return exe, nil
}

func sealInit() (string, int, error) {
	bin, err := findInit()
	if err != nil {
		return "", -1, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(bin, &st); err == nil && st.Flags&unix.ST_RDONLY != 0 {
		return bin, -1, nil
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, bin, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return "", -1, fmt.Errorf("clone a read-only view of %s: %w", bin, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return "", -1, fmt.Errorf("make the view of %s read-only: %w", bin, err)
	}
	// The path resolves in the child before exec, while the fd is still open.
	return fmt.Sprintf("/proc/self/fd/%d", fd), fd, nil
}

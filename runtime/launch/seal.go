package launch

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The container's init is this binary, re-executed inside the namespaces.
// A process in the container could reach it through /proc/<pid>/exe and, if
// the file were writable, overwrite the host's runtime (CVE-2019-5736). We
// exec it from a detached read-only bind of the binary: open_tree plus
// mount_setattr are two syscalls, against a copy into a memfd that cost runc
// most of its start time. If the binary already sits on a read-only mount
// there is nothing to do.
var sealed struct {
	once sync.Once
	fd   int
	path string
	err  error
}

func sealedSelf() (string, error) {
	sealed.once.Do(func() {
		sealed.path, sealed.fd, sealed.err = sealSelf()
	})
	return sealed.path, sealed.err
}

func sealSelf() (string, int, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", -1, fmt.Errorf("find the runtime binary: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(exe, &st); err == nil && st.Flags&unix.ST_RDONLY != 0 {
		return exe, -1, nil
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, exe, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return "", -1, fmt.Errorf("clone a read-only view of %s: %w", exe, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return "", -1, fmt.Errorf("make the view of %s read-only: %w", exe, err)
	}
	// The path resolves in the child before exec, while the fd is still open.
	return fmt.Sprintf("/proc/self/fd/%d", fd), fd, nil
}

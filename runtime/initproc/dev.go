package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets (OCI runtime spec,
// "Default Devices").
var defaultDevices = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

var devLinks = [][2]string{
	{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	{"pts/ptmx", "ptmx"},
}

// setupDev populates the container's /dev. In a user namespace mknod is not
// allowed, so the host's nodes are bind mounted instead.
func (r *rootfs) setupDev() error {
	dev, err := r.target("/dev", true)
	if err != nil {
		return err
	}
	defer dev.Close()
	// A fresh /dev handle: the one taken before mounting names the covered dir.
	dfd := int(dev.Fd())
	for _, d := range defaultDevices {
		if err := r.createDevice(dfd, d.name, d.major, d.minor); err != nil {
			return err
		}
	}
	if l := r.spec().Linux; l != nil && len(l.Devices) > 0 {
		if err := r.createSpecDevices(l.Devices); err != nil {
			return err
		}
	}
	if !r.devMounted {
		// Someone else's /dev (the rootfs's own): leave its links alone.
		return nil
	}
	for _, l := range devLinks {
		if err := unix.Symlinkat(l[0], dfd, l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create /dev/%s -> %s: %w", l[1], l[0], err)
		}
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		if err := unix.Symlinkat("/proc/kcore", dfd, "core"); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create /dev/core: %w", err)
		}
	}
	return nil
}

func (r *rootfs) createDevice(dfd int, name string, major, minor uint32) error {
	if !r.cfg.UserNS {
		err := unix.Mknodat(dfd, name, unix.S_IFCHR|0o666, int(unix.Mkdev(major, minor)))
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create device /dev/%s: %w", name, err)
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil &&
			st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(major, minor) {
			return nil
		}
		// Something else sits there: cover it with the host's node.
	}
	fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return fmt.Errorf("create mountpoint /dev/%s: %w", name, err)
	}
	unix.Close(fd)
	tree, err := unix.OpenTree(unix.AT_FDCWD, filepath.Join("/dev", name), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("bind host /dev/%s: %w", name, err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", dfd, name, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind host /dev/%s into the container: %w", name, err)
	}
	return nil
}

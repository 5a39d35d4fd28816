package launch

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// idmappedRoot clones the rootfs as a detached mount whose ownership is seen
// through the container's user namespace: files owned by host root appear
// owned by the container's root, so it can write its own rootfs without a
// chown of the user's files. The child attaches it in place of the plain
// bind.
func idmappedRoot(rootfs string, pid int) (int, error) {
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open the container's user namespace: %w", err)
	}
	defer unix.Close(userns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, rootfs, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("clone rootfs %s for an idmapped mount: %w", rootfs, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(tree)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) {
			return -1, fmt.Errorf("rootfs %s is on a %s filesystem, which cannot be idmapped here (%v): this kernel cannot idmap that filesystem: put the rootfs on ext4, xfs or btrfs (tmpfs needs Linux 6.3), or run without --uid-map", rootfs, fsName(rootfs), err)
		}
		return -1, fmt.Errorf("idmap rootfs %s: %w", rootfs, err)
	}
	return tree, nil
}

func fsName(path string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "unknown"
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.NFS_SUPER_MAGIC:
		return "nfs"
	case unix.V9FS_MAGIC:
		return "9p"
	}
	return fmt.Sprintf("0x%x", st.Type)
}

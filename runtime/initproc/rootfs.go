package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/mountopt"
	"llcr/runtime/proto"
)

// rootfs prepares the container's filesystem in three phases: prepare (in
// the host's view, every mount of the spec under the rootfs path), pivot, and
// finish (masks and read-only paths, seen from inside).
type rootfs struct {
	cfg     *proto.InitConfig
	path    string
	idmapFd int
	// fds arrived with the start configuration (see proto.InitConfig).
	fds []int
	// root is an O_PATH handle on the rootfs: every mount target is resolved
	// below it without following symlinks out (CVE-2021-30465).
	root *os.File
	// devMounted: we mounted a tmpfs on /dev, so it is ours to populate.
	devMounted bool
	conn       *proto.Conn
	// inCgroup: the parent said CgroupReady (and the cgroup namespace, if
	// asked for, is unshared).
	inCgroup bool
}

// awaitCgroup waits until the parent has put us in our cgroups, then
// unshares the cgroup namespace so that its root is the container's cgroup.
// It runs at the first cgroupfs mount, or after all mounts when there is none.
func (r *rootfs) awaitCgroup() error {
	if r.inCgroup {
		return nil
	}
	if _, _, err := r.conn.Expect(proto.CgroupReady); err != nil {
		return fmt.Errorf("wait for the cgroup: %w", err)
	}
	if r.cfg.CgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	r.inCgroup = true
	return nil
}

func (r *rootfs) spec() *specs.Spec { return r.cfg.Spec }

func (r *rootfs) prepare() error {
	// Nothing we mount may propagate to the host, and pivot_root refuses a
	// shared parent mount.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private in the container's mount namespace: %w", err)
	}
	if r.idmapFd >= 0 {
		// In a user namespace the container's root may be refused a lookup
		// of r.path (a rootfs below a 0700 directory such as /root), so the
		// clone is attached on top of "/", which needs no lookup, and used
		// through its fd only. Absolute paths still resolve from the old
		// root underneath, so the host's /proc, /dev and /sys/fs/cgroup stay
		// usable until pivot_root.
		if err := unix.MoveMount(r.idmapFd, "", unix.AT_FDCWD, "/", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			unix.Close(r.idmapFd)
			return fmt.Errorf("attach idmapped rootfs %s: %w", r.path, err)
		}
		// The fd now names the root of the attached mount.
		r.root = os.NewFile(uintptr(r.idmapFd), r.path)
	} else {
		// pivot_root needs the new root to be a mount point; binding the
		// rootfs onto itself makes it one wherever it lives, the host's /
		// included.
		if err := unix.Mount(r.path, r.path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind rootfs %s onto itself: %w", r.path, err)
		}
		root, err := os.OpenFile(r.path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open rootfs %s: %w", r.path, err)
		}
		r.root = root
	}
	for i, m := range r.spec().Mounts {
		if err := r.mount(i, m); err != nil {
			return err
		}
	}
	// The parent's clones are attached (or unused): done with them.
	for _, j := range r.cfg.BindFds {
		if j >= 0 && j < len(r.fds) {
			unix.Close(r.fds[j])
		}
	}
	return r.setupDev()
}

// pivot makes the rootfs the root and detaches the host's tree.
func (r *rootfs) pivot() error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldroot)
	// Through the handle: the path may be out of reach in a user namespace.
	if err := unix.Fchdir(int(r.root.Fd())); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", r.path, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one, so no
	// put_old directory has to exist in (or be created in) the user's rootfs.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", r.path, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Slave first, so the unmount cannot propagate to the host's mounts.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	r.root.Close()
	r.path = "/"
	return nil
}

// finish applies what must be seen from inside: masks, read-only paths, a
// read-only root and the spec's root propagation.
func (r *rootfs) finish() error {
	s := r.spec()
	if s.Linux != nil {
		// Through the container's /proc, before /proc/sys turns read-only.
		if len(s.Linux.Sysctl) > 0 {
			if err := writeSysctls(s.Linux.Sysctl); err != nil {
				return err
			}
		}
		for _, p := range s.Linux.MaskedPaths {
			if err := maskPath(p); err != nil {
				return err
			}
		}
		for _, p := range s.Linux.ReadonlyPaths {
			if err := readonlyPath(p); err != nil {
				return err
			}
		}
	}
	if s.Root.Readonly {
		if err := remount("/", unix.MS_RDONLY); err != nil {
			return fmt.Errorf("make rootfs read-only: %w", err)
		}
	}
	if s.Linux != nil && s.Linux.RootfsPropagation != "" {
		o := mountopt.Parse([]string{s.Linux.RootfsPropagation})
		for _, p := range o.Propagation {
			if err := unix.Mount("", "/", "", p, ""); err != nil {
				return fmt.Errorf("set rootfs propagation %s: %w", s.Linux.RootfsPropagation, err)
			}
		}
	}
	return nil
}

// remount changes a mount's flags, keeping the ones the kernel locks (a
// remount that drops nosuid, nodev, noexec or atime flags set by a more
// privileged namespace fails with EPERM).
func remount(path string, add uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	flags := unix.MS_BIND | unix.MS_REMOUNT | add | lockedFlags(st.Flags)
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", path, err)
	}
	return nil
}

func lockedFlags(f int64) uintptr {
	var out uintptr
	for st, ms := range map[int64]uintptr{
		unix.ST_NOSUID: unix.MS_NOSUID, unix.ST_NODEV: unix.MS_NODEV, unix.ST_NOEXEC: unix.MS_NOEXEC,
		unix.ST_NOATIME: unix.MS_NOATIME, unix.ST_NODIRATIME: unix.MS_NODIRATIME, unix.ST_RELATIME: unix.MS_RELATIME,
		unix.ST_RDONLY: unix.MS_RDONLY,
	} {
		if f&st != 0 {
			out |= ms
		}
	}
	return out
}

// maskPath hides p: a directory under an empty read-only tmpfs, anything
// else under /dev/null. A path that does not exist needs no mask.
func maskPath(p string) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	if fi.IsDir() {
		if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0,mode=555"); err != nil {
			return fmt.Errorf("mask %s with a read-only tmpfs: %w", p, err)
		}
		return nil
	}
	// The mask source must really be the null device: a /dev/null swapped
	// for a symlink would bind an arbitrary file over /proc (CVE-2025-31133).
	null, err := os.OpenFile("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("mask %s: open /dev/null: %w", p, err)
	}
	defer null.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(null.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		return fmt.Errorf("mask %s: /dev/null in the container is not the null device", p)
	}
	if err := unix.Mount(fdPath(null), p, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mask %s with /dev/null: %w", p, err)
	}
	return nil
}

// readonlyPath binds p onto itself and makes that bind read-only.
func readonlyPath(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("make %s read-only: bind: %w", p, err)
	}
	if err := remount(p, unix.MS_RDONLY|unix.MS_REC); err != nil {
		return fmt.Errorf("make %s read-only: %w", p, err)
	}
	return nil
}

func fdPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// rel is the spec path p relative to the rootfs, for securejoin's handle API.
func rel(p string) string {
	return strings.TrimPrefix(filepath.Clean("/"+p), "/")
}

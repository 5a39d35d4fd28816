package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/mountopt"
)

// target returns an O_PATH handle on the mount destination inside the
// rootfs, creating it (a directory, or an empty file when dir is false) if
// missing. Symlinks on the way resolve inside the rootfs, never out of it.
func (r *rootfs) target(dest string, dir bool) (*os.File, error) {
	p := rel(dest)
	h, err := pathrs.OpenatInRoot(r.root, p)
	if err == nil {
		return h, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("resolve %s in rootfs: %w", dest, err)
	}
	if dir {
		h, err = r.mkdirAll(p)
		if err != nil {
			return nil, fmt.Errorf("create mountpoint %s in rootfs: %w", dest, err)
		}
		return h, nil
	}
	parent, err := r.mkdirAll(filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("create mountpoint %s in rootfs: %w", filepath.Dir(dest), err)
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(p), unix.O_CREAT|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create mountpoint %s in rootfs: %w", dest, err)
	}
	unix.Close(fd)
	h, err = pathrs.OpenatInRoot(r.root, p)
	if err != nil {
		return nil, fmt.Errorf("resolve %s in rootfs: %w", dest, err)
	}
	return h, nil
}

// mkdirAll creates p below the root. MkdirAllHandle refuses a path through a
// dangling symlink (ENOTDIR) rather than guess, but a mountpoint behind one
// is legitimate (an image shipping /var/run -> /run and no /run) and the
// SecureJoin-then-MkdirAll of docker and older runc made the link's target
// inside the rootfs. So on ENOTDIR the links are resolved the way the
// container will see them, scoped to the root, and the result is created
// with MkdirAllHandle again, which still refuses anything leaving the root.
func (r *rootfs) mkdirAll(p string) (*os.File, error) {
	h, err := pathrs.MkdirAllHandle(r.root, p, 0o755)
	if err == nil || !errors.Is(err, unix.ENOTDIR) {
		return h, err
	}
	// Through the handle's magic link, which needs no lookup of the rootfs's
	// host path (refused in some user namespaces).
	base := fdPath(r.root)
	joined, jerr := securejoin.SecureJoin(base, p)
	if jerr != nil {
		return nil, err
	}
	resolved := rel(strings.TrimPrefix(joined, base))
	if resolved == p {
		return nil, err
	}
	return pathrs.MkdirAllHandle(r.root, resolved, 0o755)
}

func (r *rootfs) mount(i int, m specs.Mount) error {
	o := mountopt.Parse(m.Options)
	if m.Type == "bind" || o.Bind {
		tree := -1
		if j, ok := r.cfg.BindFds[i]; ok {
			if j < 0 || j >= len(r.fds) {
				return fmt.Errorf("bind mount %s on %s: source fd %d announced but %d fds received", m.Source, m.Destination, j, len(r.fds))
			}
			tree = r.fds[j]
		}
		return r.bind(m, o, tree)
	}
	switch m.Type {
	case "cgroup", "cgroup2":
		if err := r.awaitCgroup(); err != nil {
			return err
		}
		return r.mountCgroup(m, o)
	}
	t, err := r.target(m.Destination, true)
	if err != nil {
		return err
	}
	defer t.Close()
	// Mount through the handle: the path cannot be swapped for a symlink
	// between resolving and mounting.
	if err := unix.Mount(m.Source, fdPath(t), m.Type, o.Flags, o.Data); err != nil {
		if m.Type == "sysfs" && errors.Is(err, unix.EPERM) && r.cfg.UserNS {
			// sysfs may be mounted only by the user namespace owning the
			// network namespace; a joined (CNI-made) one is the host's.
			// Bind the host's /sys instead, as rootless podman does.
			return r.bind(specs.Mount{Source: "/sys", Destination: m.Destination},
				mountopt.Options{Flags: o.Flags | unix.MS_RDONLY, Recursive: true, Bind: true}, -1)
		}
		return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
	}
	if m.Destination == "/dev" && m.Type == "tmpfs" {
		r.devMounted = true
	}
	if len(o.Propagation) > 0 {
		// The handle still names the covered directory: look the new mount up.
		t2, err := r.target(m.Destination, true)
		if err != nil {
			return err
		}
		defer t2.Close()
		for _, p := range o.Propagation {
			if err := unix.Mount("", fdPath(t2), "", p, ""); err != nil {
				return fmt.Errorf("set propagation of %s: %w", m.Destination, err)
			}
		}
	}
	return nil
}

// CloneBind clones a bind mount's source as a detached tree with the
// mount's attributes (read-only and the rest, recursively for rbind) set
// while nobody can see it. The child does it for itself; in a user
// namespace the parent does it instead (proto.InitConfig.BindFds).
func CloneBind(m specs.Mount) (int, error) {
	return cloneBind(m, mountopt.Parse(m.Options))
}

func cloneBind(m specs.Mount, o mountopt.Options) (int, error) {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	atFlags := uint(0)
	if o.Recursive {
		flags |= unix.AT_RECURSIVE
		atFlags = unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, m.Source, uint(flags))
	if err != nil {
		return -1, fmt.Errorf("bind mount %s on %s: clone source: %w", m.Source, m.Destination, err)
	}
	attr := mountAttr(o)
	if attr.Attr_set != 0 || attr.Attr_clr != 0 || attr.Propagation != 0 {
		if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|atFlags, attr); err != nil {
			unix.Close(tree)
			return -1, fmt.Errorf("bind mount %s on %s: set attributes: %w", m.Source, m.Destination, err)
		}
	}
	return tree, nil
}

// bind moves a detached clone of the source onto the target: tree when the
// parent cloned it, else one made here.
func (r *rootfs) bind(m specs.Mount, o mountopt.Options, tree int) error {
	if tree < 0 {
		var err error
		if tree, err = cloneBind(m, o); err != nil {
			return err
		}
		defer unix.Close(tree)
	}
	// The clone says what the source is (the fstat follows no path, so it
	// works where the source path is out of our reach).
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return fmt.Errorf("bind mount %s on %s: source: %w", m.Source, m.Destination, err)
	}
	t, err := r.target(m.Destination, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := unix.MoveMount(tree, "", int(t.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", m.Source, m.Destination, err)
	}
	return nil
}

// mountAttr translates mount(2) flags to mount_setattr(2) attributes.
func mountAttr(o mountopt.Options) *unix.MountAttr {
	a := &unix.MountAttr{}
	pairs := []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	}
	for _, p := range pairs {
		if o.Flags&p.ms != 0 {
			a.Attr_set |= p.attr
		}
		if o.ClearFlags&p.ms != 0 {
			a.Attr_clr |= p.attr
		}
	}
	// Access-time modes are one field: setting one clears the others.
	switch {
	case o.Flags&unix.MS_NOATIME != 0:
		a.Attr_set |= unix.MOUNT_ATTR_NOATIME
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
	case o.Flags&unix.MS_STRICTATIME != 0:
		a.Attr_set |= unix.MOUNT_ATTR_STRICTATIME
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
	case o.Flags&unix.MS_RELATIME != 0:
		a.Attr_set |= unix.MOUNT_ATTR_RELATIME
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
	}
	for _, p := range o.Propagation {
		a.Propagation = uint64(p &^ unix.MS_REC)
	}
	return a
}

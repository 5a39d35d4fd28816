package initproc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DeviceType maps an OCI device type to its file type bits ("u" is an
// unbuffered character device, the same node as "c").
func DeviceType(t string) (uint32, bool) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, true
	case "b":
		return unix.S_IFBLK, true
	case "p":
		return unix.S_IFIFO, true
	}
	return 0, false
}

// InDev reports whether p names something strictly below /dev.
func InDev(p string) bool {
	c := filepath.Clean(p)
	return filepath.IsAbs(p) && strings.HasPrefix(c, "/dev/")
}

// createSpecDevices makes linux.devices after the default ones, each
// resolved inside the rootfs like a mount target.
func (r *rootfs) createSpecDevices(devs []specs.LinuxDevice) error {
	for _, d := range devs {
		if err := r.createSpecDevice(d); err != nil {
			return err
		}
	}
	return nil
}

func (r *rootfs) createSpecDevice(d specs.LinuxDevice) error {
	typ, ok := DeviceType(d.Type)
	if !ok || !InDev(d.Path) {
		return fmt.Errorf("create device %s: type %q or path not allowed", d.Path, d.Type)
	}
	p := rel(d.Path)
	parent, err := r.mkdirAll(filepath.Dir(p))
	if err != nil {
		return fmt.Errorf("create device %s: parent directory: %w", d.Path, err)
	}
	defer parent.Close()
	pfd, name := int(parent.Fd()), filepath.Base(p)
	rdev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if typ == unix.S_IFIFO {
		rdev = 0
	}
	// Fifos are allowed in a user namespace; device nodes are not, so the
	// host's node is bound instead and keeps the host's mode and owner.
	if r.cfg.UserNS && typ != unix.S_IFIFO {
		return r.bindHostDevice(d, pfd, name, typ, rdev)
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	err = unix.Mknodat(pfd, name, typ|mode, int(rdev))
	if errors.Is(err, unix.EEXIST) {
		// Already there (a default device the spec lists too): fine if it
		// is the same node, which then gets the spec's mode and owner.
		var st unix.Stat_t
		if serr := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr != nil ||
			st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && st.Rdev != rdev) {
			return fmt.Errorf("create device %s: something else already exists there", d.Path)
		}
		err = unix.Fchmodat(pfd, name, mode, 0)
	}
	if err != nil {
		return fmt.Errorf("create device %s (%s %d:%d): %w", d.Path, d.Type, d.Major, d.Minor, err)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if uid >= 0 || gid >= 0 {
		if err := unix.Fchownat(pfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown device %s to %d:%d: %w", d.Path, uid, gid, err)
		}
	}
	return nil
}

// bindHostDevice binds the host's node with the spec's numbers: the one at
// the same path, else udev's /dev/char or /dev/block link, else the
// default device with those numbers.
func (r *rootfs) bindHostDevice(d specs.LinuxDevice, pfd int, name string, typ uint32, rdev uint64) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil &&
		st.Mode&unix.S_IFMT == typ && st.Rdev == rdev {
		return nil // a default device already bound
	}
	src := ""
	candidates := []string{d.Path, fmt.Sprintf("/dev/char/%d:%d", d.Major, d.Minor)}
	if typ == unix.S_IFBLK {
		candidates[1] = fmt.Sprintf("/dev/block/%d:%d", d.Major, d.Minor)
	} else {
		// Hosts without udev's links still have the default devices.
		for _, dd := range defaultDevices {
			if int64(dd.major) == d.Major && int64(dd.minor) == d.Minor {
				candidates = append(candidates, "/dev/"+dd.name)
			}
		}
	}
	for _, c := range candidates {
		if err := unix.Stat(c, &st); err == nil && st.Mode&unix.S_IFMT == typ && st.Rdev == rdev {
			src = c
			break
		}
	}
	if src == "" {
		return fmt.Errorf("create device %s (%s %d:%d): in a user namespace the host's node is bound, and the host has none", d.Path, d.Type, d.Major, d.Minor)
	}
	fd, err := unix.Openat(pfd, name, unix.O_CREAT|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return fmt.Errorf("create mountpoint %s: %w", d.Path, err)
	}
	unix.Close(fd)
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("bind host %s: %w", src, err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", pfd, name, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind host %s on %s: %w", src, d.Path, err)
	}
	return nil
}

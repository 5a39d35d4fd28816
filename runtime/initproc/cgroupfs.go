package initproc

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/mountopt"
)

// mountCgroup gives the container its /sys/fs/cgroup. Inside the cgroup
// namespace a fresh cgroupfs shows the container's own cgroup as the root.
// cgroup2 hosts need one mount; v1 and hybrid hosts need a tmpfs with one
// mount per hierarchy, mirroring the host's layout.
func (r *rootfs) mountCgroup(m specs.Mount, o mountopt.Options) error {
	t, err := r.target(m.Destination, true)
	if err != nil {
		return err
	}
	defer t.Close()
	hier, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return fmt.Errorf("read host cgroup mounts: %w", err)
	}
	flags := o.Flags
	for _, h := range hier {
		if h.Mountpoint == "/sys/fs/cgroup" && h.FSType == "cgroup2" {
			if err := unix.Mount("cgroup2", fdPath(t), "cgroup2", flags, ""); err != nil {
				return fmt.Errorf("mount cgroup2 on %s: %w", m.Destination, err)
			}
			return nil
		}
	}
	if err := unix.Mount("tmpfs", fdPath(t), "tmpfs", (flags&^unix.MS_RDONLY)|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", m.Destination, err)
	}
	dir, err := r.target(m.Destination, true)
	if err != nil {
		return err
	}
	defer dir.Close()
	done := map[string]bool{}
	for _, h := range hier {
		if filepath.Dir(h.Mountpoint) != "/sys/fs/cgroup" {
			continue
		}
		name := filepath.Base(h.Mountpoint)
		// With the rootfs attached on / (user namespaces), a bind of the
		// host's /sys lists each hierarchy a second time.
		if done[name] {
			continue
		}
		done[name] = true
		if err := unix.Mkdirat(int(dir.Fd()), name, 0o755); err != nil {
			return fmt.Errorf("create %s/%s: %w", m.Destination, name, err)
		}
		target := fdPath(dir) + "/" + name
		fstype, data := h.FSType, ""
		if fstype == "cgroup" {
			data = hierarchyOptions(h.VFSOptions)
		}
		err := unix.Mount("cgroup", target, fstype, flags, data)
		if err != nil && r.cfg.CgroupPaths != nil {
			// A user namespace may not mount a v1 hierarchy: bind the
			// container's own cgroup directory instead.
			if src, ok := r.hostCgroup(name, h); ok {
				err = r.bind(specs.Mount{Source: src, Destination: filepath.Join(m.Destination, name)},
					mountopt.Options{Flags: flags, Recursive: true}, -1)
			}
		}
		if err != nil {
			return fmt.Errorf("mount cgroup hierarchy %s on %s/%s: %w", data, m.Destination, name, err)
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", fdPath(dir), "", unix.MS_REMOUNT|flags|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Destination, err)
		}
	}
	return nil
}

// hierarchyOptions keeps the superblock options that name a v1 hierarchy
// (its controllers, name=, none): a new mount must ask for exactly those.
func hierarchyOptions(vfs string) string {
	var keep []string
	for _, o := range strings.Split(vfs, ",") {
		switch {
		case o == "rw" || o == "ro" || o == "xattr" || strings.HasPrefix(o, "release_agent=") ||
			o == "clone_children" || o == "noprefix" || o == "cpuset_v2_mode" || o == "favordynmods":
		default:
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ",")
}

func (r *rootfs) hostCgroup(name string, h *mountinfo.Info) (string, bool) {
	for ctrl, p := range r.cfg.CgroupPaths {
		if strings.HasPrefix(p, h.Mountpoint+"/") && (ctrl == name || strings.Contains(","+hierarchyOptions(h.VFSOptions)+",", ","+ctrl+",")) {
			return p, true
		}
	}
	return "", false
}

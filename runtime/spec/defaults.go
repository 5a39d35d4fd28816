package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultPath is the PATH docker and runc give a container whose image
// sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// dockerCapabilities is docker's default set, in docker's order. It is the
// set container images are written against: fewer breaks images, more
// weakens isolation.
var dockerCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// runcSpecCapabilities is the minimal set `runc spec` writes.
var runcSpecCapabilities = []string{
	"CAP_AUDIT_WRITE",
	"CAP_KILL",
	"CAP_NET_BIND_SERVICE",
}

// capabilities fills Bounding, Effective and Permitted only. Inheritable
// and Ambient stay empty: a non-empty inheritable set lets a file with
// inheritable file capabilities gain them across execve (CVE-2022-29162).
func capabilities(set []string) *specs.LinuxCapabilities {
	return &specs.LinuxCapabilities{
		Bounding:  append([]string(nil), set...),
		Effective: append([]string(nil), set...),
		Permitted: append([]string(nil), set...),
	}
}

func defaultRlimits() []specs.POSIXRlimit {
	return []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}
}

// defaultMounts are the kernel filesystems every container expects, with
// the options runc's generated spec uses.
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// Paths that leak host information or allow host changes through procfs
// and sysfs: masked ones are hidden, read-only ones stay visible.
func defaultMaskedPaths() []string {
	return []string{
		"/proc/acpi",
		"/proc/asound",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/proc/sched_debug",
		"/sys/firmware",
		"/proc/scsi",
		"/sys/devices/virtual/powercap",
	}
}

func defaultReadonlyPaths() []string {
	return []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
}

// defaultNamespaces are the namespaces every container gets; the user
// namespace is added only when ID maps are given.
func defaultNamespaces() []specs.LinuxNamespace {
	return []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.NetworkNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
		{Type: specs.CgroupNamespace},
	}
}

// defaultDevices denies every device, then allows what runc allows every
// container: creating any device node (opening it is still denied), the
// harmless character devices, the container's ptys and /dev/ptmx. runc adds
// these implicitly; we write them out so the spec says what is enforced.
func defaultDevices() []specs.LinuxDeviceCgroup {
	dev := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			d.Major = &major
		}
		if minor >= 0 {
			d.Minor = &minor
		}
		return d
	}
	const wildcard = -1 // "*" in the cgroup rule
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Type: "a", Access: "rwm"},
		dev("c", wildcard, wildcard, "m"),
		dev("b", wildcard, wildcard, "m"),
		dev("c", 1, 3, "rwm"),          // /dev/null
		dev("c", 1, 8, "rwm"),          // /dev/random
		dev("c", 1, 7, "rwm"),          // /dev/full
		dev("c", 5, 0, "rwm"),          // /dev/tty
		dev("c", 1, 5, "rwm"),          // /dev/zero
		dev("c", 1, 9, "rwm"),          // /dev/urandom
		dev("c", 136, wildcard, "rwm"), // /dev/pts/*
		dev("c", 5, 2, "rwm"),          // /dev/ptmx
	}
}

// Default is the spec `runc spec` writes, for a bundle whose rootfs is
// ./rootfs and whose command is sh. It differs from runc's only where runc
// depends on the host or leaves things implicit: the cgroup namespace is
// always listed, the device allow-list runc adds at run time is written
// out, and the terminal is off so the spec works without a TTY.
func Default() *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{
			Terminal:        false,
			User:            specs.User{},
			Args:            []string{"sh"},
			Env:             []string{defaultPath, "TERM=xterm"},
			Cwd:             "/",
			NoNewPrivileges: true,
			Capabilities:    capabilities(runcSpecCapabilities),
			Rlimits:         defaultRlimits(),
		},
		Hostname: "container",
		Mounts:   defaultMounts(),
		Linux: &specs.Linux{
			MaskedPaths:   defaultMaskedPaths(),
			ReadonlyPaths: defaultReadonlyPaths(),
			Resources:     &specs.LinuxResources{Devices: defaultDevices()},
			Namespaces:    defaultNamespaces(),
		},
	}
}

// Package mountopt translates OCI mount options into mount(2) flags. It is
// shared by the parent (which clones bind sources) and the init (which
// mounts), and kept free of other imports so the init stays small.
package mountopt

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Options is an OCI mount's option list translated for mount(2).
//
// Flags are set on the mount and ClearFlags must be cleared (they come from
// "rw", "suid", "exec", ... which matter when remounting a bind mount that
// inherited the opposite). For "bind"/"rbind" Flags also holds MS_BIND
// (and MS_REC), mirrored in Bind and Recursive for callers that handle bind
// mounts separately. Propagation changes need their own mount(2) calls, one
// per entry, in order. Data is what is left for the filesystem itself.
type Options struct {
	Flags       uintptr
	ClearFlags  uintptr
	Propagation []uintptr
	Recursive   bool
	Bind        bool
	Data        string
}

// flagOption is a mount option that sets (clear=false) or clears a flag.
type flagOption struct {
	clear bool
	flag  uintptr
}

var mountFlagOptions = map[string]flagOption{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"nosuid":        {false, unix.MS_NOSUID},
	"suid":          {true, unix.MS_NOSUID},
	"nodev":         {false, unix.MS_NODEV},
	"dev":           {true, unix.MS_NODEV},
	"noexec":        {false, unix.MS_NOEXEC},
	"exec":          {true, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"atime":         {true, unix.MS_NOATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"iversion":      {false, unix.MS_I_VERSION},
	"noiversion":    {true, unix.MS_I_VERSION},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
}

var propagationOptions = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// runtimeOnlyOptions are meaningful to OCI runtimes, not to the kernel;
// passing them in the data string would make the mount fail with EINVAL.
var runtimeOnlyOptions = map[string]bool{
	"tmpcopyup": true,
	"idmap":     true,
	"ridmap":    true,
}

// Parse translates OCI mount options into mount(2) arguments.
// Options are applied in order, so a later "rw" undoes an earlier "ro".
func Parse(opts []string) Options {
	var m Options
	var data []string
	for _, o := range opts {
		if f, ok := mountFlagOptions[o]; ok {
			if f.clear {
				m.Flags &^= f.flag
				m.ClearFlags |= f.flag
			} else {
				m.Flags |= f.flag
				m.ClearFlags &^= f.flag
			}
			continue
		}
		if p, ok := propagationOptions[o]; ok {
			m.Propagation = append(m.Propagation, p)
			continue
		}
		switch {
		case o == "bind":
			m.Bind = true
			m.Flags |= unix.MS_BIND
		case o == "rbind":
			m.Bind, m.Recursive = true, true
			m.Flags |= unix.MS_BIND | unix.MS_REC
		case runtimeOnlyOptions[o]:
		case o == "":
		default:
			data = append(data, o)
		}
	}
	m.Data = strings.Join(data, ",")
	return m
}

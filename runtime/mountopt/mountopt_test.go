package mountopt

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want Options
	}{
		{"empty", nil, Options{}},
		{"defaults", []string{"defaults"}, Options{}},
		{"ro", []string{"ro"}, Options{Flags: unix.MS_RDONLY}},
		{"rw clears", []string{"rw"}, Options{ClearFlags: unix.MS_RDONLY}},
		{"later rw wins", []string{"ro", "rw"}, Options{ClearFlags: unix.MS_RDONLY}},
		{"later ro wins", []string{"rw", "ro"}, Options{Flags: unix.MS_RDONLY}},
		{"sysfs", []string{"nosuid", "noexec", "nodev", "ro"}, Options{Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY}},
		{"clearing pairs", []string{"suid", "dev", "exec", "async", "nomand", "atime", "diratime", "norelatime", "nostrictatime"}, Options{
			ClearFlags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME,
		}},
		{"setting flags", []string{"sync", "dirsync", "remount", "mand", "noatime", "nodiratime", "relatime", "strictatime"}, Options{
			Flags: unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_REMOUNT | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME,
		}},
		{"bind", []string{"bind"}, Options{Flags: unix.MS_BIND, Bind: true}},
		{"rbind", []string{"rbind"}, Options{Flags: unix.MS_BIND | unix.MS_REC, Bind: true, Recursive: true}},
		{"volume ro", []string{"rbind", "rprivate", "ro"}, Options{
			Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, Bind: true, Recursive: true,
			Propagation: []uintptr{unix.MS_PRIVATE | unix.MS_REC},
		}},
		{"propagation in order", []string{"shared", "rslave", "private", "rshared", "slave", "rprivate", "unbindable", "runbindable"}, Options{
			Propagation: []uintptr{
				unix.MS_SHARED, unix.MS_SLAVE | unix.MS_REC, unix.MS_PRIVATE, unix.MS_SHARED | unix.MS_REC,
				unix.MS_SLAVE, unix.MS_PRIVATE | unix.MS_REC, unix.MS_UNBINDABLE, unix.MS_UNBINDABLE | unix.MS_REC,
			},
		}},
		{"dev tmpfs", []string{"nosuid", "strictatime", "mode=755", "size=65536k"}, Options{
			Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k",
		}},
		{"devpts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}, Options{
			Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5",
		}},
		{"runtime-only options dropped", []string{"tmpcopyup", "idmap", "ridmap", "mode=1777"}, Options{Data: "mode=1777"}},
		{"empty option ignored", []string{"", "size=1m", ""}, Options{Data: "size=1m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n  %+v\nwant\n  %+v", tt.in, got, tt.want)
			}
			if got.Flags&got.ClearFlags != 0 {
				t.Errorf("a flag is both set and cleared: %#x", got.Flags&got.ClearFlags)
			}
		})
	}
}

// Every mount in the default spec must translate without leaving
// flag-like words in the data string, where the kernel would reject them.
func TestParseMountOptionsDefaultMounts(t *testing.T) {
	flagWords := map[string]bool{}
	for k := range mountFlagOptions {
		flagWords[k] = true
	}
	// The option lists of runc's default spec (runtime/spec.Default).
	defaults := [][]string{
		{"nosuid", "strictatime", "mode=755", "size=65536k"},
		{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
		{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"},
		{"nosuid", "noexec", "nodev"},
		{"nosuid", "noexec", "nodev", "ro"},
		{"rbind", "rprivate", "ro"},
	}
	for _, opts := range defaults {
		mo := Parse(opts)
		for _, d := range strings.Split(mo.Data, ",") {
			if flagWords[d] || propagationOptions[d] != 0 {
				t.Errorf("options %v: %q ended up in data %q", opts, d, mo.Data)
			}
		}
	}
	if mo := Parse([]string{"nosuid", "noexec", "nodev", "relatime", "ro"}); mo.Flags != unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV|unix.MS_RELATIME|unix.MS_RDONLY || mo.Data != "" {
		t.Errorf("cgroup mount options = %+v", mo)
	}
}

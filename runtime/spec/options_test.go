package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func baseOptions(t *testing.T) Options {
	t.Helper()
	root := newRootfs(t, map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup})
	return Options{ID: "c1", Rootfs: root, Args: []string{"/bin/sh", "-c", "true"}}
}

func TestFromOptionsMinimal(t *testing.T) {
	o := baseOptions(t)
	s, err := FromOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != specs.Version {
		t.Errorf("Version = %q", s.Version)
	}
	if s.Root.Path != o.Rootfs || s.Root.Readonly {
		t.Errorf("Root = %+v", s.Root)
	}
	if s.Hostname != "c1" {
		t.Errorf("Hostname = %q, want the ID", s.Hostname)
	}
	p := s.Process
	if p.Terminal || p.Cwd != "/" || !p.NoNewPrivileges || !reflect.DeepEqual(p.Args, o.Args) {
		t.Errorf("Process = %+v", p)
	}
	if p.User.UID != 0 || p.User.GID != 0 {
		t.Errorf("User = %+v, want root", p.User)
	}
	wantEnv := []string{defaultPath, "HOME=/root", "HOSTNAME=c1"}
	if !reflect.DeepEqual(p.Env, wantEnv) {
		t.Errorf("Env = %q, want %q", p.Env, wantEnv)
	}
	caps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
	c := p.Capabilities
	if !reflect.DeepEqual(c.Bounding, caps) || !reflect.DeepEqual(c.Effective, caps) || !reflect.DeepEqual(c.Permitted, caps) {
		t.Errorf("Capabilities = %+v", c)
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("Inheritable/Ambient must stay empty (CVE-2022-29162): %+v", c)
	}
	if !reflect.DeepEqual(p.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}) {
		t.Errorf("Rlimits = %+v", p.Rlimits)
	}
	checkDefaultMounts(t, s.Mounts)
	if len(s.Mounts) != 7 {
		t.Errorf("%d mounts, want the 7 defaults", len(s.Mounts))
	}
	checkDefaultLinux(t, s.Linux)
	wantNS := []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}, {Type: "cgroup"}}
	if !reflect.DeepEqual(s.Linux.Namespaces, wantNS) {
		t.Errorf("Namespaces = %+v, want %+v", s.Linux.Namespaces, wantNS)
	}
	if s.Linux.UIDMappings != nil || s.Linux.GIDMappings != nil {
		t.Error("id mappings without --uid-map")
	}
	r := s.Linux.Resources
	if r.Memory != nil || r.CPU != nil || r.Pids != nil {
		t.Errorf("limits without flags: %+v", r)
	}
	if s.Linux.RootfsPropagation != "rprivate" {
		t.Errorf("RootfsPropagation = %q", s.Linux.RootfsPropagation)
	}
}

func TestFromOptionsFlags(t *testing.T) {
	o := baseOptions(t)
	vol := t.TempDir()
	o.Memory = "1.5G"
	o.CPUs = "0.5"
	o.PidsLimit = 64
	o.Hostname = "web"
	o.Workdir = "/srv/./app/"
	o.User = "alice"
	o.Volumes = []string{vol + ":/data:ro", vol + ":/data2"}
	o.ReadOnly = true
	o.TTY = true
	s, err := FromOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Root.Readonly || !s.Process.Terminal || s.Hostname != "web" || s.Process.Cwd != "/srv/app" {
		t.Errorf("Root %+v Terminal %v Hostname %q Cwd %q", s.Root, s.Process.Terminal, s.Hostname, s.Process.Cwd)
	}
	if want := (specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 50}}); !reflect.DeepEqual(s.Process.User, want) {
		t.Errorf("User = %+v, want %+v", s.Process.User, want)
	}
	wantEnv := []string{defaultPath, "HOME=/home/alice", "HOSTNAME=web", "TERM=xterm"}
	if !reflect.DeepEqual(s.Process.Env, wantEnv) {
		t.Errorf("Env = %q, want %q", s.Process.Env, wantEnv)
	}
	r := s.Linux.Resources
	if r.Memory == nil || *r.Memory.Limit != 1536<<20 || *r.Memory.Swap != 1536<<20 {
		t.Errorf("Memory = %+v", r.Memory)
	}
	if r.CPU == nil || *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 {
		t.Errorf("CPU = %+v", r.CPU)
	}
	if r.Pids == nil || *r.Pids.Limit != 64 {
		t.Errorf("Pids = %+v", r.Pids)
	}
	if len(s.Mounts) != 9 {
		t.Fatalf("mounts = %+v", s.Mounts)
	}
	if m := s.Mounts[7]; m.Destination != "/data" || m.Source != vol || !slices.Contains(m.Options, "ro") {
		t.Errorf("first volume = %+v", m)
	}
	if m := s.Mounts[8]; m.Destination != "/data2" || slices.Contains(m.Options, "ro") {
		t.Errorf("second volume = %+v", m)
	}
}

func TestFromOptionsRelativeRootfs(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	s, err := FromOptions(Options{ID: "x", Rootfs: "./rootfs", Args: []string{"sh"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "rootfs"); s.Root.Path != want {
		t.Errorf("Root.Path = %q, want %q", s.Root.Path, want)
	}
}

func TestFromOptionsCPUs(t *testing.T) {
	tests := []struct {
		in    string
		quota int64
	}{
		{"1", 100000},
		{"0.5", 50000},
		{"1.5", 150000},
		{"2", 200000},
		{"0.01", 1000},
		{"0.333333", 33333},
		{"16.25", 1625000},
	}
	for _, tt := range tests {
		q, err := parseCPUs(tt.in)
		if err != nil || q != tt.quota {
			t.Errorf("parseCPUs(%q) = %d, %v; want %d", tt.in, q, err, tt.quota)
		}
	}
	for in, msg := range map[string]string{
		"0":        "smallest CPU limit is 0.01",
		"0.001":    "smallest CPU limit is 0.01",
		"-1":       "want a number of CPUs",
		"abc":      "want a number of CPUs",
		"1.":       "want a number of CPUs",
		".5":       "want a number of CPUs",
		"1e3":      "want a number of CPUs",
		"12345678": "want a number of CPUs",
	} {
		if _, err := parseCPUs(in); err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), `--cpus "`+in+`"`) {
			t.Errorf("parseCPUs(%q) error = %v, want one naming --cpus and containing %q", in, err, msg)
		}
	}
}

func TestFromOptionsEnv(t *testing.T) {
	host := map[string]string{"HOSTVAR": "from-host", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := host[k]; return v, ok }
	tests := []struct {
		name string
		in   []string
		tty  bool
		want []string
	}{
		{"clean", nil, false, []string{defaultPath, "HOME=/h", "HOSTNAME=n"}},
		{"tty adds TERM", nil, true, []string{defaultPath, "HOME=/h", "HOSTNAME=n", "TERM=xterm"}},
		{"added in order", []string{"B=2", "A=1"}, false, []string{defaultPath, "HOME=/h", "HOSTNAME=n", "B=2", "A=1"}},
		{"overrides in place", []string{"PATH=/x", "HOME=/y", "TERM=dumb"}, true, []string{"PATH=/x", "HOME=/y", "HOSTNAME=n", "TERM=dumb"}},
		{"later -e wins", []string{"A=1", "A=2"}, false, []string{defaultPath, "HOME=/h", "HOSTNAME=n", "A=2"}},
		{"bare key from host", []string{"HOSTVAR", "EMPTY"}, false, []string{defaultPath, "HOME=/h", "HOSTNAME=n", "HOSTVAR=from-host", "EMPTY="}},
		{"bare key not on host is dropped", []string{"NOPE"}, false, []string{defaultPath, "HOME=/h", "HOSTNAME=n"}},
		{"value with =", []string{"A=b=c", "E="}, false, []string{defaultPath, "HOME=/h", "HOSTNAME=n", "A=b=c", "E="}},
	}
	for _, tt := range tests {
		got, err := environment(tt.in, "/h", "n", tt.tty, lookup)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: environment(%q) = %q, %v; want %q", tt.name, tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"=x", "", "A\x00B=1", "A=\x00"} {
		if _, err := environment([]string{bad}, "/", "n", false, lookup); err == nil || !strings.Contains(err.Error(), "invalid --env") {
			t.Errorf("environment(%q) error = %v", bad, err)
		}
	}
}

// The host environment must not leak except through a bare -e KEY.
func TestFromOptionsHostEnv(t *testing.T) {
	t.Setenv("LLCR_SPEC_TEST", "leak")
	o := baseOptions(t)
	s, err := FromOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(s.Process.Env, "LLCR_SPEC_TEST=leak") {
		t.Error("host variable leaked without -e")
	}
	o.Env = []string{"LLCR_SPEC_TEST"}
	if s, err = FromOptions(o); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Process.Env, "LLCR_SPEC_TEST=leak") {
		t.Errorf("bare -e did not take the host's value: %q", s.Process.Env)
	}
}

func TestFromOptionsUserNamespace(t *testing.T) {
	tests := []struct {
		name        string
		user        string
		uid, gid    []string
		wantUID     []specs.LinuxIDMapping
		wantGID     []specs.LinuxIDMapping
		wantAddGids []uint32
	}{
		{
			name: "gid map defaults to uid map", uid: []string{"0:100000:65536"},
			wantUID:     []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
			wantGID:     []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
			wantAddGids: []uint32{10},
		},
		{
			name: "separate maps", uid: []string{"0:100000:65536"}, gid: []string{"0:200000:65536"},
			wantUID:     []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
			wantGID:     []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}},
			wantAddGids: []uint32{10},
		},
		{
			// root's supplementary group 10 is not mapped: it is dropped.
			name: "unmapped supplementary group dropped", uid: []string{"0:100000:1"},
			wantUID: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1}},
			wantGID: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1}},
		},
		{
			name: "several ranges", user: "alice", uid: []string{"0:100000:1", "1000:101000:1"}, gid: []string{"0:100000:1", "1000:101000:1", "10:100010:1"},
			wantUID:     []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1}, {ContainerID: 1000, HostID: 101000, Size: 1}},
			wantGID:     []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1}, {ContainerID: 1000, HostID: 101000, Size: 1}, {ContainerID: 10, HostID: 100010, Size: 1}},
			wantAddGids: []uint32{10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOptions(t)
			o.User, o.UIDMaps, o.GIDMaps = tt.user, tt.uid, tt.gid
			s, err := FromOptions(o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Linux.UIDMappings, tt.wantUID) || !reflect.DeepEqual(s.Linux.GIDMappings, tt.wantGID) {
				t.Errorf("mappings = %+v / %+v", s.Linux.UIDMappings, s.Linux.GIDMappings)
			}
			if !reflect.DeepEqual(s.Process.User.AdditionalGids, tt.wantAddGids) {
				t.Errorf("AdditionalGids = %v, want %v", s.Process.User.AdditionalGids, tt.wantAddGids)
			}
			if n := s.Linux.Namespaces; n[len(n)-1].Type != specs.UserNamespace {
				t.Errorf("no user namespace: %+v", n)
			}
		})
	}
}

func TestFromOptionsErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missingVol := filepath.Join(t.TempDir(), "nope")
	base := baseOptions(t)
	tests := []struct {
		name   string
		modify func(*Options)
		want   string // substring of the error
	}{
		{"bad id", func(o *Options) { o.ID = "../x" }, `invalid container id "../x"`},
		{"no args", func(o *Options) { o.Args = nil }, "no command given: put the command after --"},
		{"empty command", func(o *Options) { o.Args = []string{""} }, "no command given"},
		{"no rootfs", func(o *Options) { o.Rootfs = "" }, "no --rootfs given"},
		{"missing rootfs", func(o *Options) { o.Rootfs = "/nope" }, "rootfs /nope does not exist: create it or pass --rootfs pointing at a directory with the container's files"},
		{"rootfs is a file", func(o *Options) { o.Rootfs = file }, "rootfs " + file + " is not a directory"},
		{"bad memory", func(o *Options) { o.Memory = "1X" }, `invalid --memory "1X": want a size such as 512M, 1G, 1.5G or a plain number of bytes`},
		{"zero memory", func(o *Options) { o.Memory = "0" }, `invalid --memory "0": must be more than zero bytes`},
		{"tiny memory", func(o *Options) { o.Memory = "1M" }, `invalid --memory "1M": the smallest memory limit is 6MiB`},
		{"bad cpus", func(o *Options) { o.CPUs = "lots" }, `invalid --cpus "lots"`},
		{"negative pids", func(o *Options) { o.PidsLimit = -1 }, `invalid --pids-limit "-1"`},
		{"relative workdir", func(o *Options) { o.Workdir = "app" }, `invalid --workdir "app": the working directory must be an absolute path inside the container, e.g. /app`},
		{"long hostname", func(o *Options) { o.Hostname = strings.Repeat("h", 65) }, "at most 64 characters"},
		{"hostname with space", func(o *Options) { o.Hostname = "a b" }, `invalid --hostname "a b"`},
		{"unknown user", func(o *Options) { o.User = "bob2" }, `unknown user "bob2": not found in ` + filepath.Join(base.Rootfs, "etc/passwd")},
		{"bad user syntax", func(o *Options) { o.User = "a:" }, `invalid --user "a:"`},
		{"bad env", func(o *Options) { o.Env = []string{"=v"} }, `invalid --env "=v"`},
		{"bad volume", func(o *Options) { o.Volumes = []string{"novolume"} }, `invalid --volume "novolume"`},
		{"missing volume", func(o *Options) { o.Volumes = []string{missingVol + ":/d"} }, "volume source " + missingVol + " does not exist"},
		{"bad uid map", func(o *Options) { o.UIDMaps = []string{"0:1"} }, `invalid --uid-map "0:1"`},
		{"bad gid map", func(o *Options) { o.UIDMaps, o.GIDMaps = []string{"0:1:1"}, []string{"0:1:0"} }, `invalid --gid-map "0:1:0"`},
		{"gid map alone", func(o *Options) { o.GIDMaps = []string{"0:1:1"} }, "--gid-map needs --uid-map"},
		{"uid not mapped", func(o *Options) { o.User = "alice"; o.UIDMaps = []string{"0:100000:1000"} }, "--user alice runs as uid 1000, which the user namespace's uid map 0:100000:1000 does not map"},
		{"root not mapped", func(o *Options) { o.UIDMaps = []string{"1:100000:1000"} }, "--user root runs as uid 0"},
		{"gid not mapped", func(o *Options) {
			o.User = "alice"
			o.UIDMaps = []string{"0:100000:65536"}
			o.GIDMaps = []string{"0:100000:1000"}
		}, "--user alice runs as gid 1000, which the user namespace's gid map 0:100000:1000 does not map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			o.Args = slices.Clone(base.Args)
			tt.modify(&o)
			_, err := FromOptions(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

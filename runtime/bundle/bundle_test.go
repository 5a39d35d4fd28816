package bundle

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/spec"
)

// writeBundle makes a bundle with a rootfs and the default spec edited by edit.
func writeBundle(t *testing.T, edit func(*specs.Spec)) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := spec.Default()
	if edit != nil {
		edit(s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadResolvesPaths(t *testing.T) {
	dir := writeBundle(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind"}},
			specs.Mount{Destination: "/abs", Source: "/srv", Options: []string{"bind"}},
			specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs"})
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "rootfs"); s.Root.Path != want {
		t.Errorf("root.path = %q, want %q", s.Root.Path, want)
	}
	got := map[string]string{}
	for _, m := range s.Mounts {
		got[m.Destination] = m.Source
	}
	for dest, want := range map[string]string{"/data": filepath.Join(dir, "data"), "/abs": "/srv", "/t": "tmpfs"} {
		if got[dest] != want {
			t.Errorf("mount %s source = %q, want %q", dest, got[dest], want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	timeout := 0
	tests := []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"version", func(s *specs.Spec) { s.Version = "2.0.0" }, `config.json: ociVersion: "2.0.0" is not supported`},
		{"no version", func(s *specs.Spec) { s.Version = "" }, `config.json: ociVersion: "" is not supported`},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "config.json: root.path: missing"},
		{"missing rootfs", func(s *specs.Spec) { s.Root.Path = "/nonexistent/rootfs" }, "config.json: root.path: /nonexistent/rootfs does not exist"},
		{"rootfs a file", func(s *specs.Spec) { s.Root.Path = "config.json" }, "is not a directory"},
		{"no process", func(s *specs.Spec) { s.Process = nil }, "config.json: process: missing"},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }, "config.json: process.args: empty"},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, `config.json: process.cwd: "tmp" is not an absolute path`},
		{"capability", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = []string{"CAP_KILL", "CAP_CHOWN", "CAP_FOO"}
		}, `config.json: process.capabilities.bounding[2]: unknown capability "CAP_FOO"`},
		{"ambient capability", func(s *specs.Spec) { s.Process.Capabilities.Ambient = []string{"chown"} },
			`process.capabilities.ambient[0]: unknown capability "chown"`},
		{"rlimit", func(s *specs.Spec) { s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}} },
			`config.json: process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS"`},
		{"rlimit soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}}
		}, "process.rlimits[0]: soft limit 10 above hard limit 5"},
		{"namespace", func(s *specs.Spec) { s.Linux.Namespaces[1].Type = "foo" },
			`config.json: linux.namespaces[1].type: unknown namespace "foo"`},
		{"duplicate namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "pid"})
		}, `linux.namespaces[6].type: namespace "pid" listed twice`},
		{"join pid namespace", func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "/proc/1/ns/pid" },
			"linux.namespaces[0].path: joining an existing pid namespace is not supported yet"},
		{"userns without maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
		}, "linux.uidMappings: a new user namespace needs uid mappings"},
		{"relative mount", func(s *specs.Spec) { s.Mounts[0].Destination = "proc" },
			`config.json: mounts[0].destination: "proc" is not an absolute path`},
		{"relative hook", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true"}, {Path: "hook.sh"}}}
		}, `config.json: hooks.poststart[1].path: "hook.sh" is not an absolute path`},
		{"hook timeout", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true", Timeout: &timeout}}}
		}, "hooks.createRuntime[0].timeout: 0"},
		{"seccomp", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_ALLOW"} },
			"linux.seccomp: seccomp filters are not supported yet"},
	}
	if !AppArmorEnabled() {
		tests = append(tests, struct {
			name string
			edit func(*specs.Spec)
			want string
		}{"apparmor", func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" },
			`process.apparmorProfile: "docker-default" given but AppArmor is not enabled`})
	}
	if !SELinuxEnabled() {
		tests = append(tests, struct {
			name string
			edit func(*specs.Spec)
			want string
		}{"selinux", func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" },
			"process.selinuxLabel:"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeBundle(t, tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(*specs.Spec)
	}{
		{"default", nil},
		{"1.0.2", func(s *specs.Spec) { s.Version = "1.0.2-dev" }},
		{"empty lsm fields", func(s *specs.Spec) { s.Process.ApparmorProfile, s.Process.SelinuxLabel = "", "" }},
		{"netns path", func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/var/run/netns/x" }},
		{"userns with maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}},
		{"no linux", func(s *specs.Spec) { s.Linux = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(writeBundle(t, tt.edit)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadMissingConfig(t *testing.T) {
	_, err := Load(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("Load of an empty dir: %v", err)
	}
}

func TestRunHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	one := 1
	s := &specs.Spec{Hooks: &specs.Hooks{
		Poststart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", `cat > "$OUT"; echo >> "$OUT"; echo "$0 $1" >> "$OUT"`, "a", "b"},
			Env: []string{"OUT=" + out}}},
		Poststop:      []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo broken >&2; exit 3"}}},
		CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "10"}, Timeout: &one}},
	}}
	st := specs.State{Version: specs.Version, ID: "x", Status: specs.StateRunning, Pid: 42, Bundle: "/b"}
	if err := RunHooks(s, Poststart, st); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	lines := strings.SplitN(string(b), "\n", 2)
	var got specs.State
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil || got.ID != "x" || got.Pid != 42 {
		t.Errorf("hook stdin = %q (%v)", lines[0], err)
	}
	if len(lines) < 2 || strings.TrimSpace(lines[1]) != "a b" {
		t.Errorf("hook args: %q", b)
	}
	err := RunHooks(s, Poststop, st)
	if err == nil || !strings.Contains(err.Error(), "hooks.poststop[0] /bin/sh: exit status 3: broken") {
		t.Errorf("failing hook: %v", err)
	}
	err = RunHooks(s, CreateRuntime, st)
	if err == nil || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Errorf("slow hook: %v", err)
	}
	if err := RunHooks(s, StartContainer, st); err != nil {
		t.Errorf("no hooks: %v", err)
	}
}

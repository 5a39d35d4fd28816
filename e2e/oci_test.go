package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// create leaves the process before its exec; start lets it run; the exit
// is recorded; delete removes everything.
func TestOCICreateStartDelete(t *testing.T) {
	e := newEnv(t)
	var out string
	b := e.ociBundle(func(s *specs.Spec) {
		out = bindOut(t, s)
		s.Process.Args = []string{"/bin/sh", "-c", "echo ran > /out/ran; echo to-stdout; echo to-stderr >&2; exit 3"}
		s.Annotations = map[string]string{"org.example.key": "v"}
	})
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := e.create("oci1", b, "--pid-file", pidFile)
	if r.code != 0 {
		t.Fatalf("create: %s", r.result)
	}
	st := e.state("oci1")
	if st.Status != "created" || st.Pid <= 0 || st.Bundle != b || st.OCIVersion != specs.Version {
		t.Fatalf("state after create: %+v", st)
	}
	if got := readFile(pidFile); got != strconv.Itoa(st.Pid) {
		t.Errorf("--pid-file holds %q, state says pid %d", got, st.Pid)
	}
	var raw map[string]any
	json.Unmarshal([]byte(e.ok(e.run("state", "oci1"))), &raw)
	if a, _ := raw["annotations"].(map[string]any); a["org.example.key"] != "v" {
		t.Errorf("state annotations: %v", raw["annotations"])
	}
	if !running(st.Pid) {
		t.Fatalf("created container's process %d is not alive", st.Pid)
	}
	// A created container must not have run its command.
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
		t.Fatal("the command ran before start")
	}
	if r2 := e.run("start", "oci1"); r2.code != 0 {
		t.Fatalf("start: %s", r2)
	}
	if got := waitFile(t, filepath.Join(out, "ran")); got != "ran\n" {
		t.Errorf("/out/ran = %q", got)
	}
	st = e.waitStatus("oci1", "stopped")
	if f := e.stateFile("oci1"); f.ExitCode == nil || *f.ExitCode != 3 {
		t.Errorf("recorded exit code: %v", f.ExitCode)
	}
	// The container had create's stdio, not a log.
	if o, er := readFile(r.out), readFile(r.errPath); o != "to-stdout\n" || er != "to-stderr\n" {
		t.Errorf("container stdio: stdout %q stderr %q", o, er)
	}
	if r2 := e.run("start", "oci1"); r2.code == 0 || !strings.Contains(r2.stderr, "only a created container can be started") {
		t.Errorf("start of a stopped container: %s", r2)
	}
	e.ok(e.run("delete", "oci1"))
	e.assertGone("oci1")
}

func TestOCIDeleteCreatedNeedsForce(t *testing.T) {
	e := newEnv(t)
	b := e.ociBundle(func(s *specs.Spec) { s.Process.Args = []string{"/bin/true"} })
	e.ok(e.create("oci2", b).result)
	r := e.run("delete", "oci2")
	if r.code == 0 || !strings.Contains(r.stderr, "created") {
		t.Errorf("delete of a created container without -f: %s", r)
	}
	if st := e.state("oci2"); st.Status != "created" {
		t.Errorf("after a refused delete: status %s", st.Status)
	}
	e.ok(e.run("delete", "-f", "oci2"))
	e.assertGone("oci2")
}

// runc's form of run: foreground (exit status, nothing kept), --keep, -d.
func TestOCIRunBundle(t *testing.T) {
	e := newEnv(t)
	b := e.ociBundle(func(s *specs.Spec) { s.Process.Args = []string{"/bin/sh", "-c", "echo in-bundle; exit 4"} })
	r := e.run("run", "-b", b, "oci3")
	if r.code != 4 || r.stdout != "in-bundle\n" {
		t.Errorf("run -b: %s", r)
	}
	e.assertGone("oci3")

	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Cleanup(func() { e.run("delete", "-f", "oci3k") })
	r = e.run("run", "-b", b, "--keep", "--pid-file", pidFile, "oci3k")
	if r.code != 4 {
		t.Errorf("run --keep: %s", r)
	}
	if st := e.state("oci3k"); st.Status != "stopped" || st.Bundle != b {
		t.Errorf("kept container: %+v", st)
	}
	if _, err := strconv.Atoi(readFile(pidFile)); err != nil {
		t.Errorf("--pid-file: %q", readFile(pidFile))
	}
	e.ok(e.run("delete", "oci3k"))
	e.assertGone("oci3k")

	// The seed's form still needs --rootfs, and the forms do not mix.
	if r := e.run("run", "--", "/bin/true"); r.code != 125 || !strings.Contains(r.stderr, "--rootfs") {
		t.Errorf("run without --rootfs or id: %s", r)
	}
	if r := e.run("run", "-b", b, "--memory", "1G", "x"); r.code != 125 || !strings.Contains(r.stderr, "--memory") {
		t.Errorf("run -b with --memory: %s", r)
	}

	t.Cleanup(func() { e.run("delete", "-f", "oci3d") })
	fr := e.runFiles("run", "-d", "-b", b, "oci3d")
	if fr.code != 0 {
		t.Fatalf("run -d -b: %s", fr.result)
	}
	e.waitStatus("oci3d", "stopped")
	if got := readFile(fr.out); got != "in-bundle\n" {
		t.Errorf("run -d output on the caller's stdout: %q", got)
	}
	e.ok(e.run("delete", "oci3d"))
	e.assertGone("oci3d")
}

// With process.terminal the pty master arrives on the console socket.
func TestOCIConsoleSocket(t *testing.T) {
	e := newEnv(t)
	b := e.ociBundle(func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"/bin/sh"}
	})
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *os.File, 1)
	go func() {
		conn, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			got <- nil
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		if len(fds) != 1 {
			got <- nil
			return
		}
		got <- os.NewFile(uintptr(fds[0]), "master")
	}()
	r := e.create("oci4", b, "--console-socket", sock)
	if r.code != 0 {
		t.Fatalf("create: %s", r.result)
	}
	var master *os.File
	select {
	case master = <-got:
	case <-time.After(10 * time.Second):
	}
	if master == nil {
		t.Fatal("no pty master received on the console socket")
	}
	defer master.Close()
	e.ok(e.run("start", "oci4"))
	if _, err := master.WriteString("echo hi-$((1+2)); tty; exit\n"); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	sawHi, sawTTY := false, false
	timeout := time.After(10 * time.Second)
	for !(sawHi && sawTTY) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("terminal closed; saw %q", seen)
			}
			seen = append(seen, l)
			sawHi = sawHi || strings.TrimSpace(l) == "hi-3"
			sawTTY = sawTTY || strings.HasPrefix(strings.TrimSpace(l), "/dev/pts/")
		case <-timeout:
			t.Fatalf("no output through the pty; saw %q", seen)
		}
	}
	e.waitStatus("oci4", "stopped")
	e.ok(e.run("delete", "oci4"))
	e.assertGone("oci4")
}

// Hooks get the state on stdin at their point of the lifecycle; a failing
// poststart only warns; a failing createRuntime aborts and leaves nothing.
func TestOCIHooks(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `cat > "$D/` + name + `.json"`}, Env: []string{"D=" + dir}}
	}
	fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-broke >&2; exit 1"}}
	b := e.ociBundle(func(s *specs.Spec) {
		s.Process.Args = []string{"/bin/true"}
		s.Hooks = &specs.Hooks{
			CreateRuntime: []specs.Hook{hook("createRuntime")},
			Poststart:     []specs.Hook{hook("poststart"), fail},
			Poststop:      []specs.Hook{hook("poststop")},
		}
	})
	e.ok(e.create("oci5", b).result)
	pid := e.state("oci5").Pid
	read := func(name string) specs.State {
		t.Helper()
		var st specs.State
		if err := json.Unmarshal([]byte(readFile(filepath.Join(dir, name+".json"))), &st); err != nil {
			t.Fatalf("%s hook's stdin: %v", name, err)
		}
		if st.ID != "oci5" || st.Bundle != b {
			t.Errorf("%s hook's state: %+v", name, st)
		}
		return st
	}
	if st := read("createRuntime"); st.Status != "creating" || st.Pid != pid {
		t.Errorf("createRuntime state: %+v (pid %d)", st, pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "poststart.json")); err == nil {
		t.Error("poststart ran before start")
	}
	r := e.run("start", "oci5")
	if r.code != 0 || !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "hook-broke") {
		t.Errorf("start with a failing poststart hook: %s", r)
	}
	if st := read("poststart"); st.Status != "running" || st.Pid != pid {
		t.Errorf("poststart state: %+v", st)
	}
	e.waitStatus("oci5", "stopped")
	if _, err := os.Stat(filepath.Join(dir, "poststop.json")); err == nil {
		t.Error("poststop ran before delete")
	}
	e.ok(e.run("delete", "oci5"))
	if st := read("poststop"); st.Status != "stopped" {
		t.Errorf("poststop state: %+v", st)
	}
	e.assertGone("oci5")

	bad := e.ociBundle(func(s *specs.Spec) { s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{fail}} })
	r = e.create("oci5b", bad).result
	if r.code != 125 || !strings.Contains(r.stderr, "hooks.createRuntime[0]") || !strings.Contains(r.stderr, "hook-broke") {
		t.Errorf("create with a failing createRuntime hook: %s", r)
	}
	e.assertGone("oci5b")
}

func TestOCIBadConfig(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"capability", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FOO")
		},
			`config.json: process.capabilities.bounding[3]: unknown capability "CAP_FOO"`},
		{"namespace", func(s *specs.Spec) { s.Linux.Namespaces[1].Type = "foo" }, `config.json: linux.namespaces[1].type: unknown namespace "foo"`},
		{"rootfs", func(s *specs.Spec) { s.Root.Path = "/nonexistent/rootfs" }, "config.json: root.path: /nonexistent/rootfs does not exist"},
		{"version", func(s *specs.Spec) { s.Version = "2.0.0" }, `config.json: ociVersion: "2.0.0" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.ociBundle(tt.edit)
			failsWith(t, e.create("bad", b).result, tt.want)
			failsWith(t, e.run("run", "-b", b, "bad"), tt.want)
			if _, err := os.Stat(filepath.Join(e.root, "bad")); err == nil {
				t.Error("a refused bundle left a state directory")
			}
		})
	}
}

// `spec` writes a config.json that run -b accepts, and never overwrites one.
func TestOCISpec(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.ok(e.run("spec", "-b", dir))
	s := e.readConfig(dir)
	if s.Version != specs.Version || s.Root.Path != "rootfs" || s.Process == nil {
		t.Fatalf("spec wrote %+v", s)
	}
	// The default rootfs is ./rootfs: make it the shared one.
	if err := os.Symlink(rootfs, filepath.Join(dir, "rootfs")); err != nil {
		t.Fatal(err)
	}
	r := e.runIn([]byte("echo from-default-spec; exit 6\n"), "run", "-b", dir, "oci6")
	if r.code != 6 || r.stdout != "from-default-spec\n" {
		t.Errorf("run -b of the default spec: %s", r)
	}
	e.assertGone("oci6")
	before := readFile(filepath.Join(dir, "config.json"))
	failsWith(t, e.run("spec", "-b", dir), "already exists")
	if readFile(filepath.Join(dir, "config.json")) != before {
		t.Error("spec overwrote config.json")
	}
	rl := t.TempDir()
	e.ok(e.run("spec", "--rootless", "-b", rl))
	if s := e.readConfig(rl); len(s.Linux.UIDMappings) != 1 || s.Linux.Resources != nil {
		t.Errorf("rootless spec: %+v", s.Linux)
	}
}

func TestOCIFeaturesVersion(t *testing.T) {
	e := newEnv(t)
	var f struct {
		Min   string   `json:"ociVersionMin"`
		Max   string   `json:"ociVersionMax"`
		Hooks []string `json:"hooks"`
		Linux struct {
			Namespaces   []string `json:"namespaces"`
			Capabilities []string `json:"capabilities"`
		} `json:"linux"`
	}
	out := e.ok(e.run("features"))
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("features is not JSON: %v\n%s", err, out)
	}
	if f.Max != specs.Version || f.Min == "" || !contains(f.Hooks, "poststart") ||
		!contains(f.Linux.Namespaces, "pid") || !contains(f.Linux.Capabilities, "CAP_SYS_ADMIN") {
		t.Errorf("features: %s", out)
	}
	v := e.ok(e.run("--version"))
	if !strings.Contains(v, "container version") || !strings.Contains(v, "spec: "+specs.Version) {
		t.Errorf("--version: %q", v)
	}
}

// containerd reads the runtime's error from --log in json.
func TestOCILogJSON(t *testing.T) {
	e := newEnv(t)
	b := e.ociBundle(func(s *specs.Spec) { s.Linux.Namespaces[0].Type = "bogus" })
	log := filepath.Join(t.TempDir(), "log.json")
	r := e.runFiles("--log", log, "--log-format", "json", "create", "-b", b, "oci7")
	if r.code != 125 || !strings.Contains(r.stderr, "linux.namespaces[0].type") {
		t.Errorf("create with a bad bundle: %s", r.result)
	}
	lines := strings.Split(strings.TrimSpace(readFile(log)), "\n")
	var entry struct{ Level, Msg, Time string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		t.Fatalf("log line is not JSON: %v: %q", err, lines)
	}
	if entry.Level != "error" || !strings.Contains(entry.Msg, `unknown namespace "bogus"`) {
		t.Errorf("log entry: %+v", entry)
	}
	if _, err := time.Parse(time.RFC3339Nano, entry.Time); err != nil {
		t.Errorf("log time %q: %v", entry.Time, err)
	}
	e.assertGone("oci7")
}

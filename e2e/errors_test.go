package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const idRuleText = "1 to 64 characters"

func TestErrBadID(t *testing.T) {
	long := strings.Repeat("a", 65)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"dotdot", []string{"--name", "../x"}, []string{`"../x"`, idRuleText}},
		{"slash", []string{"--name", "a/b"}, []string{`"a/b"`, idRuleText}},
		{"65 chars", []string{"--name", long}, []string{long, idRuleText}},
		{"leading dash", []string{"--name=-x"}, []string{`"-x"`, idRuleText}},
		{"dot", []string{"--name", "."}, []string{idRuleText}},
		{"space", []string{"--name", "a b"}, []string{idRuleText}},
		// kong takes "-x" after a space for a flag: still refused, naming --name.
		{"leading dash as flag", []string{"--name", "-x"}, []string{"--name"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			failsWith(t, e.sh("echo no", c.args...), c.want...)
			failsWith(t, e.sh("echo no", append(c.args, "-d")...), c.want...)
		})
	}
	// 64 characters is the limit, not over it.
	e := newEnv(t)
	e.ok(e.sh("true", "--name", strings.Repeat("b", 64)))
}

func TestErrBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string // before "--"; --rootfs is added unless given
		want []string
	}{
		{"missing rootfs", []string{"--rootfs", "/nonexistent/llcr-rootfs"}, []string{"rootfs", "/nonexistent/llcr-rootfs", "does not exist"}},
		{"rootfs is a file", []string{"--rootfs", file}, []string{"rootfs", file, "not a directory"}},
		{"memory unit", []string{"--memory", "1X"}, []string{"--memory", `"1X"`}},
		{"memory negative", []string{"--memory=-5"}, []string{"--memory", `"-5"`}},
		{"memory negative spaced", []string{"--memory", "-5"}, []string{"--memory", "-5"}},
		{"cpus", []string{"--cpus", "abc"}, []string{"--cpus", `"abc"`}},
		{"cpus negative", []string{"--cpus=-1"}, []string{"--cpus"}},
		{"pids negative", []string{"--pids-limit=-1"}, []string{"--pids-limit", `"-1"`}},
		{"pids negative spaced", []string{"--pids-limit", "-1"}, []string{"--pids-limit"}},
		{"pids not a number", []string{"--pids-limit", "many"}, []string{"--pids-limit"}},
		{"unknown user", []string{"-u", "nobody123"}, []string{"nobody123"}},
		{"unknown group", []string{"-u", "0:nogroup123"}, []string{"nogroup123"}},
		{"volume source missing", []string{"-v", "/nonexistent/llcr-vol:/x"}, []string{"/nonexistent/llcr-vol", "does not exist"}},
		{"volume relative target", []string{"-v", "/tmp:rel"}, []string{"--volume", `"rel"`, "absolute"}},
		{"volume bad option", []string{"-v", "/tmp:/x:bogus"}, []string{"--volume", "bogus"}},
		{"uid map", []string{"--uid-map", "0:x:1"}, []string{"--uid-map", `"0:x:1"`}},
		{"relative workdir", []string{"-w", "rel"}, []string{"rel"}},
		{"unknown flag", []string{"--no-such-flag"}, []string{"--no-such-flag"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			args := c.args
			if !contains(args, "--rootfs") {
				args = append([]string{"--rootfs", rootfs}, args...)
			}
			for _, detach := range []bool{false, true} {
				full := append([]string{}, args...)
				if detach {
					full = append(full, "-d", "--name", "bad")
				}
				r := e.run(append(full, "--", "/bin/sh", "-c", "echo ran")...)
				failsWith(t, r, c.want...)
				if strings.Contains(r.stdout, "ran") {
					t.Errorf("the command ran despite the bad input: %s", r)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A start that fails inside the container, after namespaces, cgroup and
// mounts exist, still leaves nothing behind (the leftover check).
func TestErrStartFailsInChild(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		cmd   []string
		code  int
		want  []string
	}{
		{"workdir under a file", []string{"-w", "/etc/passwd/x"}, []string{"true"}, 125, []string{"/etc/passwd/x"}},
		{"command not found", nil, []string{"nosuchcmd"}, 127, []string{"nosuchcmd", "not found"}},
		{"not executable", nil, []string{"/etc/passwd"}, 126, []string{"/etc/passwd"}},
	}
	for _, c := range cases {
		for _, detach := range []bool{false, true} {
			name := c.name
			if detach {
				name += " detached"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				args := append([]string{"--rootfs", rootfs, "--name", "child"}, c.flags...)
				if detach {
					args = append(args, "-d")
				}
				r := e.run(append(append(args, "--"), c.cmd...)...)
				failsWithCode(t, r, c.code, c.want...)
				if r.stdout != "" {
					t.Errorf("stdout %q from a failed start", r.stdout)
				}
				e.assertGone("child")
			})
		}
	}
}

func TestErrUnknownContainer(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"state", "nope"}, {"kill", "nope"}, {"kill", "nope", "KILL"},
		{"delete", "nope"}, {"delete", "-f", "nope"}, {"rm", "nope"}, {"logs", "nope"},
	} {
		failsWith(t, e.run(args...), "nope", "no such container")
	}
	// An id that could never exist is refused as such, not looked up.
	for _, cmd := range []string{"state", "kill", "delete", "logs"} {
		failsWith(t, e.run(cmd, "../etc"), idRuleText)
	}
	if out := e.ok(e.run("list")); strings.TrimSpace(out) != "ID  PID  STATUS  CREATED  COMMAND" {
		t.Errorf("list of an empty root: %q", out)
	}
}

func TestErrKillBadSignal(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("sig", "sleep 100"))
	for _, s := range []string{"FOO", "SIGFOO", "0", "65", "1.5"} {
		failsWith(t, e.run("kill", "sig", s), "signal")
	}
	if st := e.state("sig"); st.Status != "running" {
		t.Errorf("a bad kill changed the container: %+v", st)
	}
	e.ok(e.run("delete", "-f", "sig"))
	e.assertGone("sig")
}

func TestErrKillStopped(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("done", "true"))
	e.waitStatus("done", "stopped")
	failsWith(t, e.run("kill", "done"), "done", "not running")
	failsWith(t, e.run("kill", "done", "KILL"), "not running")
	e.ok(e.run("delete", "done"))
	e.assertGone("done")
}

// unprivileged runs bin/container as nobody.
func (e *env) unprivileged(args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return e.runCmd(c)
}

func TestErrNotRoot(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"--rootfs", rootfs, "--", "/bin/true"},
		{"run", "--rootfs", rootfs, "-d", "--", "/bin/true"},
		{"kill", "x"},
		{"delete", "-f", "x"},
	} {
		failsWith(t, e.unprivileged(args...), "must run as root")
	}
}

// A limit whose cgroup controller the host lacks is refused up front. The
// missing controller is simulated by unmounting its hierarchy inside a
// private mount namespace of the runtime only; the host keeps it.
func TestErrControllerMissing(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	if _, err := os.Stat("/sys/fs/cgroup/pids/tasks"); err != nil {
		t.Skip("needs a cgroup v1 pids hierarchy to hide (hybrid or v1 host)")
	}
	e := newEnv(t)
	hidden := func(flags ...string) result {
		c := e.cmd(append(append([]string{"--rootfs", rootfs}, flags...), "--", "/bin/sh", "-c", "echo ran")...)
		script := `umount /sys/fs/cgroup/pids && exec "$@"`
		full := append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh"}, c.Args...)
		var out, errb strings.Builder
		u := exec.Command("unshare", full...)
		u.Stdout, u.Stderr = &out, &errb
		err := u.Run()
		r := result{stdout: out.String(), stderr: errb.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("unshare: %v", err)
		}
		return r
	}
	failsWith(t, hidden("--pids-limit", "10"), `"pids"`, "not available", "--pids-limit")
	failsWith(t, hidden("--pids-limit", "10", "-d", "--name", "p"), `"pids"`, "not available")
	// Without the limit the same host runs containers fine.
	if r := hidden(); r.code != 0 || r.stdout != "ran\n" {
		t.Errorf("without --pids-limit: %s", r)
	}
	if _, err := os.Stat("/sys/fs/cgroup/pids/tasks"); err != nil {
		t.Fatalf("the host lost its pids hierarchy: %v", err)
	}
}

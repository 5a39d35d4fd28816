package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trapTerm makes the container's PID 1 shell exit 143 on SIGTERM: PID 1 has
// no default action for it, and busybox sh runs traps only between
// commands, hence the background sleep and wait.
const trapTerm = "trap 'exit 143' TERM; "

func TestLifeDetach(t *testing.T) {
	e := newEnv(t)
	r := e.detach("web", trapTerm+"echo started; echo oops >&2; sleep 100 & wait")
	if out := e.ok(r); strings.TrimSpace(out) != "web" {
		t.Fatalf("run -d printed %q, want the id", out)
	}

	st := e.state("web")
	if st.OCIVersion == "" || st.ID != "web" || st.Status != "running" || st.Bundle == "" || st.Created == "" {
		t.Errorf("state of a running container: %+v", st)
	}
	if _, err := time.Parse(time.RFC3339, st.Created); err != nil {
		t.Errorf("created %q is not RFC 3339: %v", st.Created, err)
	}
	if st.Pid <= 0 || !running(st.Pid) {
		t.Fatalf("state pid %d is not a running process", st.Pid)
	}
	// The container's process is the shell of the script.
	if cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/cmdline"); !strings.Contains(string(cmdline), "echo started") {
		t.Errorf("pid %d runs %q, not the container's command", st.Pid, cmdline)
	}

	// The monitor is the container's parent, in a session of its own.
	mon := e.stateFile("web").Monitor
	cf, _ := procStat(st.Pid)
	mf, ok := procStat(mon)
	if !ok {
		t.Fatalf("monitor %d does not exist", mon)
	}
	if cf[4] != strconv.Itoa(mon) {
		t.Errorf("container's parent is %s, want the monitor %d", cf[4], mon)
	}
	self, _ := procStat(os.Getpid())
	if mf[6] == self[6] || mf[6] != strconv.Itoa(mon) {
		t.Errorf("monitor %d is in session %s (the test's is %s): want a session it leads", mon, mf[6], self[6])
	}

	for _, cmd := range []string{"list", "ls"} {
		row := listRow(t, e.ok(e.run(cmd)), "web")
		if len(row) < 6 || row[1] != strconv.Itoa(st.Pid) || row[2] != "running" || !strings.Contains(strings.Join(row[5:], " "), "/bin/sh -c") {
			t.Errorf("%s row for web: %q", cmd, row)
		}
		if _, err := time.ParseInLocation(time.DateTime, strings.Join(row[3:5], " "), time.Local); err != nil {
			t.Errorf("%s: CREATED of web: %v", cmd, err)
		}
	}

	out := e.waitLog("web", "started", "oops")
	if strings.Count(out, "started") != 1 {
		t.Errorf("log %q", out)
	}

	// delete refuses a running container and leaves it alone.
	failsWith(t, e.run("delete", "web"), "running", "-f")
	if !running(st.Pid) {
		t.Fatal("delete without -f hurt the running container")
	}

	e.ok(e.run("kill", "web"))
	st2 := e.waitStatus("web", "stopped")
	waitDead(t, st.Pid)
	if st2.Pid != 0 {
		t.Errorf("stopped container still reports pid %d", st2.Pid)
	}
	// The monitor records the exit status, then ends.
	if !eventually(10*time.Second, func() bool { return e.stateFile("web").ExitCode != nil }) {
		t.Fatal("exit code never recorded")
	}
	if c := *e.stateFile("web").ExitCode; c != 143 {
		t.Errorf("exit code %d, want 143", c)
	}
	waitDead(t, mon)
	row := listRow(t, e.ok(e.run("ls")), "web")
	if row[1] != "-" || strings.Join(row[2:4], " ") != "stopped (143)" {
		t.Errorf("list row for stopped web: %q", row)
	}
	if lg := e.ok(e.run("logs", "web")); !strings.Contains(lg, "started") {
		t.Errorf("log of the stopped container lost: %q", lg)
	}

	e.ok(e.run("delete", "web"))
	e.assertGone("web")
	if out := e.ok(e.run("list")); strings.Contains(out, "web") {
		t.Errorf("deleted container still listed:\n%s", out)
	}
}

func TestLifeKillByName(t *testing.T) {
	for _, sig := range []string{"KILL", "SIGKILL", "9", "kill"} {
		t.Run(sig, func(t *testing.T) {
			e := newEnv(t)
			e.ok(e.detach("k", "sleep 100"))
			pid := e.state("k").Pid
			e.ok(e.run("kill", "k", sig))
			waitDead(t, pid)
			e.waitStatus("k", "stopped")
			if !eventually(10*time.Second, func() bool { return e.stateFile("k").ExitCode != nil }) {
				t.Fatal("exit code never recorded")
			}
			if c := *e.stateFile("k").ExitCode; c != 137 {
				t.Errorf("exit code %d, want 137", c)
			}
			e.ok(e.run("rm", "k"))
			e.assertGone("k")
		})
	}
}

func TestLifeKillOtherSignal(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("h", "trap 'echo got-hup; exit 7' HUP; sleep 100 & wait"))
	e.ok(e.run("kill", "h", "HUP"))
	e.waitStatus("h", "stopped")
	e.waitLog("h", "got-hup")
	if !eventually(10*time.Second, func() bool { return e.stateFile("h").ExitCode != nil }) {
		t.Fatal("exit code never recorded")
	}
	if c := *e.stateFile("h").ExitCode; c != 7 {
		t.Errorf("exit code %d, want 7", c)
	}
	e.ok(e.run("delete", "h"))
	e.assertGone("h")
}

func TestLifeExitCodeRecorded(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("ex", "exit 3"))
	if !eventually(10*time.Second, func() bool { return e.stateFile("ex").ExitCode != nil }) {
		t.Fatal("exit code never recorded")
	}
	if c := *e.stateFile("ex").ExitCode; c != 3 {
		t.Errorf("exit code %d, want 3", c)
	}
	if st := e.state("ex"); st.Status != "stopped" || st.ExitCode == nil || *st.ExitCode != 3 {
		t.Errorf("state: %+v", st)
	}
	row := listRow(t, e.ok(e.run("list")), "ex")
	if strings.Join(row[2:4], " ") != "stopped (3)" {
		t.Errorf("list row: %q", row)
	}
	// A stopped container cannot be signalled.
	failsWith(t, e.run("kill", "ex", "KILL"), "not running")
	e.ok(e.run("delete", "ex"))
	e.assertGone("ex")
}

func TestLifeDeleteForceRunning(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("f", "sleep 100 & sleep 100"))
	st := e.state("f")
	mon := e.stateFile("f").Monitor
	e.ok(e.run("delete", "-f", "f"))
	if running(st.Pid) {
		t.Errorf("container process %d survived delete -f", st.Pid)
	}
	waitDead(t, mon)
	e.assertGone("f")
}

// A runtime that dies without tearing down must not strand the container:
// delete -f finds it through state.json.
func TestLifeDeleteForceAfterRuntimeKilled(t *testing.T) {
	e := newEnv(t)
	fg := e.startFG("x", "--", "/bin/sh", "-c", "sleep 100 & sleep 100")
	st := e.waitStatus("x", "running")
	sigkill(t, fg.Process.Pid)
	fg.wait(t)
	if !running(st.Pid) {
		t.Fatalf("container died with its runtime; the test needs it orphaned")
	}
	e.ok(e.run("delete", "-f", "x"))
	waitDead(t, st.Pid)
	e.assertGone("x")
}

func TestLifeDeleteForceAfterMonitorKilled(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("m", "sleep 100 & sleep 100"))
	st := e.state("m")
	mon := e.stateFile("m").Monitor
	if mon <= 0 || mon == st.Pid {
		t.Fatalf("monitorPid %d", mon)
	}
	// The monitor is our grandchild, started for this test only.
	sigkill(t, mon)
	waitDead(t, mon)
	if !running(st.Pid) {
		t.Fatalf("container died with its monitor")
	}
	if got := e.state("m"); got.Status != "running" {
		t.Errorf("status %q with the container still alive", got.Status)
	}
	// delete without -f still refuses.
	failsWith(t, e.run("delete", "m"), "-f")
	e.ok(e.run("delete", "-f", "m"))
	waitDead(t, st.Pid)
	e.assertGone("m")
}

// Killing the runtime at any moment of the start, then delete -f, leaves
// nothing: whichever step it died in (before the state directory, before
// state.json, after), the leftover check at the end must pass.
func TestLifeKilledDuringStart(t *testing.T) {
	for _, d := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			e := newEnv(t)
			fg := e.startFG("k", "--", "sleep", "100")
			time.Sleep(d)
			sigkill(t, fg.Process.Pid)
			fg.wait(t)
			r := e.run("delete", "-f", "k")
			t.Logf("after a kill at %v: delete -f: %s", d, strings.ReplaceAll(r.String(), "\n", " "))
			if r.code != 0 && !strings.Contains(r.stderr, "no such container") {
				t.Errorf("delete -f after a killed start: %s", r)
			}
			e.assertGone("k")
		})
	}
}

func TestLifeDuplicateID(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("dup", "sleep 100"))
	st := e.state("dup")
	failsWith(t, e.sh("echo second", "--name", "dup"), "already exists")
	failsWith(t, e.sh("echo second", "-d", "--name", "dup"), "already exists")
	after := e.state("dup")
	if after.Status != "running" || after.Pid != st.Pid || !running(st.Pid) {
		t.Errorf("first container hurt by the duplicate: before %+v after %+v", st, after)
	}
	e.ok(e.run("delete", "-f", "dup"))
	e.assertGone("dup")
}

func TestLifeGeneratedID(t *testing.T) {
	e := newEnv(t)
	hex12 := regexp.MustCompile(`^[0-9a-f]{12}$`)
	for _, flags := range [][]string{nil, {"--name="}, {"--name", ""}} {
		out := strings.TrimSpace(e.ok(e.sh("hostname", flags...)))
		if !hex12.MatchString(out) {
			t.Errorf("flags %q: hostname %q is not a generated 12-hex id", flags, out)
		}
	}
	// Detached, the id printed is the generated one and names the container.
	r := e.run("--rootfs", rootfs, "-d", "--", "/bin/sh", "-c", "hostname; sleep 100")
	id := strings.TrimSpace(e.ok(r))
	if !hex12.MatchString(id) {
		t.Fatalf("run -d printed %q", id)
	}
	t.Cleanup(func() { e.run("delete", "-f", id) })
	if got := strings.TrimSpace(e.waitLog(id, id)); got != id {
		t.Errorf("hostname %q, id %q", got, id)
	}
	e.ok(e.run("delete", "-f", id))
	e.assertGone(id)
}

func TestLifeHelp(t *testing.T) {
	e := newEnv(t)
	out := e.ok(e.run("--help"))
	for _, c := range []string{"run", "list", "state", "kill", "delete", "logs"} {
		if !regexp.MustCompile(`(?m)^\s+` + c + `\b`).MatchString(out) {
			t.Errorf("--help does not list %q:\n%s", c, out)
		}
	}
	out = e.ok(e.run("run", "--help"))
	for _, f := range []string{"--rootfs", "--memory", "--cpus", "--pids-limit", "--name", "--detach", "--volume", "--user", "--uid-map", "--tty"} {
		if !strings.Contains(out, f) {
			t.Errorf("run --help does not list %s:\n%s", f, out)
		}
	}
}

// The seed form (flags, no subcommand) is `run`.
func TestLifeSeedFormIsRun(t *testing.T) {
	e := newEnv(t)
	for _, code := range []string{"0", "5"} {
		script := "echo out; echo err >&2; exit " + code
		seed := e.run("--rootfs", rootfs, "--memory", "1G", "--", "/bin/sh", "-c", script)
		run := e.run("run", "--rootfs", rootfs, "--memory", "1G", "--", "/bin/sh", "-c", script)
		if seed != run {
			t.Errorf("seed form and run differ:\nseed: %s\nrun:  %s", seed, run)
		}
		if strconv.Itoa(seed.code) != code || seed.stdout != "out\n" || seed.stderr != "err\n" {
			t.Errorf("exit %s: %s", code, seed)
		}
	}
}

// A foreground container's state directory lives exactly as long as it.
func TestLifeForegroundState(t *testing.T) {
	e := newEnv(t)
	fg := e.startFG("fg", "--", "/bin/sh", "-c", trapTerm+"sleep 100 & wait")
	st := e.waitStatus("fg", "running")
	if fst := e.stateFile("fg"); fst.Monitor != fg.Process.Pid {
		t.Errorf("monitorPid %d, want the runtime %d", fst.Monitor, fg.Process.Pid)
	}
	row := listRow(t, e.ok(e.run("list")), "fg")
	if row[2] != "running" {
		t.Errorf("list row %q", row)
	}
	failsWith(t, e.run("logs", "fg"), "no log", "-d")
	e.ok(e.run("kill", "fg", "TERM"))
	if r := fg.wait(t); r.code != 143 {
		t.Errorf("runtime exit %s, want 143", r)
	}
	waitDead(t, st.Pid)
	if _, err := os.Stat(filepath.Join(e.root, "fg")); !os.IsNotExist(err) {
		t.Errorf("foreground container's state outlived it: %v", err)
	}
	e.assertGone("fg")
}

// A runtime killed after it reserved the id but before it wrote
// state.json leaves a state directory without state and a cgroup holding
// the init; delete -f must still remove both. The start is held at that
// point deterministically by freezing the container's cgroup the moment
// the runtime creates it: the init joins frozen and never reports back.
func TestLifeKilledBeforeState(t *testing.T) {
	e := newEnv(t)
	// One container makes sure the shared parent cgroup exists to watch.
	e.ok(e.sh("true"))
	fz := findFreezer(t)
	in := watchCreate(t, fz.parent)
	fg := e.startFG("k", "--", "sleep", "100")
	in.waitFor(t, "k")
	cg := filepath.Join(fz.parent, "k")
	if err := os.WriteFile(filepath.Join(cg, fz.file), []byte(fz.frozen), 0o644); err != nil {
		t.Fatalf("freeze %s: %v", cg, err)
	}
	t.Cleanup(func() { fz.release(t, "k") })
	// The init is in (and so frozen) once it shows up in cgroup.procs.
	if !eventually(10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
		return len(strings.TrimSpace(string(b))) > 0
	}) {
		t.Fatal("the init never joined its cgroup")
	}
	sigkill(t, fg.Process.Pid)
	fg.wait(t)
	if _, err := os.Stat(filepath.Join(e.root, "k", "state.json")); !os.IsNotExist(err) {
		t.Fatalf("state.json exists (%v): the start was not held before it", err)
	}
	if _, err := os.Stat(filepath.Join(e.root, "k")); err != nil {
		t.Fatalf("state directory: %v", err)
	}

	failsWith(t, e.run("state", "k"), `"k"`, "no state", "delete -f")
	failsWith(t, e.run("kill", "k"), "no state")
	failsWith(t, e.run("delete", "k"), "delete -f")
	r := e.run("list")
	listed := false
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "k" {
			listed = true
		}
	}
	if r.code != 0 || listed || !strings.Contains(r.stderr, `"k"`) {
		t.Errorf("list with a stateless container: want it left out of the table and named on stderr, got %s", r)
	}
	if len(cgroupDirs("k")) == 0 {
		t.Fatal("the killed start left no cgroup: nothing to test")
	}
	e.ok(e.run("delete", "-f", "k"))
	e.assertGone("k")
}

// delete -f of a live foreground container ends its runtime too, with the
// status of a SIGKILL, and the runtime's own teardown and delete's do not
// trip over each other.
func TestLifeDeleteForceForeground(t *testing.T) {
	e := newEnv(t)
	fg := e.startFG("ff", "--", "/bin/sh", "-c", "sleep 100 & sleep 100")
	st := e.waitStatus("ff", "running")
	e.ok(e.run("delete", "-f", "ff"))
	if r := fg.wait(t); r.code != 137 {
		t.Errorf("runtime: %s, want exit 137", r)
	}
	waitDead(t, st.Pid)
	e.assertGone("ff")
}

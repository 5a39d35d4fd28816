package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ocicmdCounter is a container that prints a rising counter to its log.
const ocicmdCounter = `i=0; while :; do i=$((i+1)); echo n$i; sleep 0.05; done`

// lastCount is the last counter value in a log.
func lastCount(log string) int {
	f := strings.Fields(log)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(f[len(f)-1], "n"))
	return n
}

// ocicmdListJSON runs `list --format json` and returns the entry of id.
func (e *env) ocicmdListJSON(id string) map[string]any {
	e.t.Helper()
	out := e.ok(e.run("list", "--format", "json"))
	var l []map[string]any
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		e.t.Fatalf("decode list --format json: %v\n%s", err, out)
	}
	for _, c := range l {
		if c["id"] == id {
			return c
		}
	}
	e.t.Fatalf("list --format json has no %s:\n%s", id, out)
	return nil
}

// cgroupFile is the path of a limit file of container id: the v1
// controller's hierarchy when it has one, else the v2 file.
func (e *env) cgroupFile(id, v1ctl, v1file, v2file string) string {
	e.t.Helper()
	paths := e.state(id).Cgroup
	if d, ok := paths[v1ctl]; ok {
		return filepath.Join(d, v1file)
	}
	if d, ok := paths[""]; ok {
		if _, err := os.Stat(filepath.Join(d, v2file)); err == nil {
			return filepath.Join(d, v2file)
		}
	}
	e.t.Skipf("no %s limit file for %s (paths %v)", v1ctl, id, paths)
	return ""
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestOCICmdPauseResume(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("pz", ocicmdCounter))
	e.waitLog("pz", "n3")
	e.ok(e.run("pause", "pz"))
	if st := e.state("pz"); st.Status != "paused" {
		t.Fatalf("state after pause: %q, want paused", st.Status)
	}
	if c := e.ocicmdListJSON("pz"); c["status"] != "paused" {
		t.Errorf("list --format json status %v, want paused", c["status"])
	}
	if row := listRow(t, e.ok(e.run("list")), "pz"); row[2] != "paused" {
		t.Errorf("list row %q, want status paused", row)
	}
	failsWith(t, e.run("pause", "pz"), "already paused")
	before := lastCount(e.ok(e.run("logs", "pz")))
	// A running counter advances about 20 times in this second.
	time.Sleep(time.Second)
	if after := lastCount(e.ok(e.run("logs", "pz"))); after != before {
		t.Fatalf("counter went from %d to %d while paused", before, after)
	}
	e.ok(e.run("resume", "pz"))
	if st := e.state("pz"); st.Status != "running" {
		t.Fatalf("state after resume: %q, want running", st.Status)
	}
	e.waitLog("pz", "n"+strconv.Itoa(before+3))
	failsWith(t, e.run("resume", "pz"), "not paused")

	// A paused container still dies with kill KILL and delete -f.
	e.ok(e.run("pause", "pz"))
	e.ok(e.run("kill", "pz", "KILL"))
	e.waitStatus("pz", "stopped")
	e.ok(e.run("delete", "pz"))
	e.assertGone("pz")

	e.ok(e.detach("pz2", ocicmdCounter))
	e.waitLog("pz2", "n1")
	e.ok(e.run("pause", "pz2"))
	e.ok(e.run("delete", "-f", "pz2"))
	e.assertGone("pz2")
}

func TestOCICmdKillAll(t *testing.T) {
	e := newEnv(t)
	// The init (pid 1 of its namespace) has no TERM handler, so TERM to it
	// alone does nothing: only --all reaches the sleeps, whose end ends it.
	e.ok(e.detach("ka", `sleep 1000 & sleep 1000 & echo up; wait; echo done`))
	e.waitLog("ka", "up")
	e.ok(e.run("kill", "ka", "TERM"))
	var pids []int
	if !eventually(10*time.Second, func() bool {
		pids = nil
		json.Unmarshal([]byte(e.ok(e.run("ps", "--format", "json", "ka"))), &pids)
		return len(pids) == 3
	}) {
		t.Fatalf("ps --format json: %v, want the init and two sleeps", pids)
	}
	e.ok(e.run("kill", "--all", "ka", "TERM"))
	st := e.waitStatus("ka", "stopped")
	if st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("exit code %v, want 0 (the script's end)", st.ExitCode)
	}
	e.waitLog("ka", "done")
	for _, p := range pids {
		waitDead(t, p)
	}
	e.ok(e.run("delete", "ka"))

	e.ok(e.detach("ka2", `sleep 1000 & sleep 1000 & echo up; wait`))
	e.waitLog("ka2", "up")
	e.ok(e.run("kill", "-a", "ka2", "KILL"))
	e.waitStatus("ka2", "stopped")
	e.ok(e.run("delete", "ka2"))
}

func TestOCICmdPs(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("ps1", `sleep 1001 & echo up; wait`))
	e.waitLog("ps1", "up")
	st := e.state("ps1")
	var pids []int
	if !eventually(10*time.Second, func() bool {
		pids = nil
		json.Unmarshal([]byte(e.ok(e.run("ps", "-f", "json", "ps1"))), &pids)
		return len(pids) == 2
	}) {
		t.Fatalf("ps json: %v, want 2 pids", pids)
	}
	if !slices.Contains(pids, st.Pid) {
		t.Errorf("ps json %v lacks the init pid %d", pids, st.Pid)
	}
	out := e.ok(e.run("ps", "ps1"))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "PID") || !strings.Contains(out, "sleep 1001") {
		t.Fatalf("ps table: want a header and 2 rows with sleep 1001, got:\n%s", out)
	}
	if !strings.Contains(out, " "+strconv.Itoa(st.Pid)+" ") {
		t.Errorf("ps table lacks the init pid %d:\n%s", st.Pid, out)
	}
	// ps's own options pass through.
	out = e.ok(e.run("ps", "ps1", "--", "-o", "pid,comm"))
	if !strings.Contains(out, "sleep") || strings.Contains(out, "1001") {
		t.Errorf("ps -o pid,comm:\n%s", out)
	}
	e.ok(e.run("delete", "--force", "ps1"))
	e.assertGone("ps1")
	failsWith(t, e.run("ps", "ps1"), "no such container")
}

// ocicmdEvent is the part of an events line the tests read.
type ocicmdEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Limit uint64 `json:"limit"`
				Usage uint64 `json:"usage"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
}

func TestOCICmdEvents(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("ev", `sleep 1000 & echo up; wait`, "--memory", "64M", "--pids-limit", "50"))
	e.waitLog("ev", "up")
	out := e.ok(e.run("events", "--stats", "ev"))
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("events --stats: want one line, got:\n%s", out)
	}
	var ev ocicmdEvent
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	d := ev.Data
	if ev.Type != "stats" || ev.ID != "ev" || d.Memory.Usage.Limit != 64<<20 || d.Memory.Usage.Usage == 0 ||
		d.Pids.Limit != 50 || d.Pids.Current < 2 || d.CPU.Usage.Total == 0 {
		t.Errorf("events --stats: %+v from\n%s", ev, out)
	}

	// The stream ends when the container does.
	c := e.cmd("events", "--interval", "100ms", "ev")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	dec := json.NewDecoder(stdout)
	for i := 0; i < 2; i++ {
		ev = ocicmdEvent{}
		if err := dec.Decode(&ev); err != nil || ev.Type != "stats" || ev.Data.Pids.Limit != 50 {
			c.Process.Kill()
			<-done
			t.Fatalf("event %d: %+v, %v", i, ev, err)
		}
	}
	e.ok(e.run("kill", "ev", "KILL"))
	go func() {
		for dec.Decode(&ev) == nil {
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("events after the container stopped: %v", err)
		}
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		<-done
		t.Fatal("events did not end with the container")
	}
	e.waitStatus("ev", "stopped")
	failsWith(t, e.run("events", "--stats", "ev"), "not running")
	e.ok(e.run("delete", "ev"))
}

func TestOCICmdUpdate(t *testing.T) {
	e := newEnv(t)
	e.ok(e.detach("up", `sleep 1000 & echo up; wait`, "--memory", "64M", "--pids-limit", "50"))
	e.waitLog("up", "up")
	mem := e.cgroupFile("up", "memory", "memory.limit_in_bytes", "memory.max")
	pids := e.cgroupFile("up", "pids", "pids.max", "pids.max")
	if got := readTrim(t, mem); got != strconv.Itoa(64<<20) {
		t.Fatalf("memory limit before update: %s", got)
	}
	e.ok(e.run("update", "--memory", "32M", "--pids-limit", "20", "up"))
	if got := readTrim(t, mem); got != strconv.Itoa(32<<20) {
		t.Errorf("memory limit after --memory 32M: %s", got)
	}
	if got := readTrim(t, pids); got != "20" {
		t.Errorf("pids.max after --pids-limit 20: %s", got)
	}
	// -r takes runtime-spec resources JSON.
	res := filepath.Join(t.TempDir(), "res.json")
	os.WriteFile(res, []byte(`{"pids":{"limit":30},"memory":{"limit":50331648}}`), 0o644)
	e.ok(e.run("update", "-r", res, "up"))
	if got := readTrim(t, pids); got != "30" {
		t.Errorf("pids.max after -r: %s", got)
	}
	if got := readTrim(t, mem); got != strconv.Itoa(48<<20) {
		t.Errorf("memory limit after -r: %s", got)
	}
	// The saved config knows the limits in force.
	var cfg struct {
		Linux struct {
			Resources struct {
				Memory struct{ Limit int64 } `json:"memory"`
				Pids   struct{ Limit int64 } `json:"pids"`
			} `json:"resources"`
		} `json:"linux"`
	}
	b, err := os.ReadFile(filepath.Join(e.root, "up", "config.json"))
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil || cfg.Linux.Resources.Pids.Limit != 30 || cfg.Linux.Resources.Memory.Limit != 48<<20 {
		t.Errorf("config.json resources after update: %+v (%v)", cfg.Linux.Resources, err)
	}
	failsWith(t, e.run("update", "--memory", "lots", "up"), "--memory")
	failsWith(t, e.run("update", "up"), "nothing to update")
	e.ok(e.run("delete", "-f", "up"))
	e.assertGone("up")
	failsWith(t, e.run("update", "--pids-limit", "5", "up"), "no such container")
}

func TestOCICmdListJSONDeleteForce(t *testing.T) {
	e := newEnv(t)
	if out := strings.TrimSpace(e.ok(e.run("list", "--format", "json"))); out != "[]" {
		t.Errorf("list --format json of an empty root: %q", out)
	}
	e.ok(e.detach("lj", `sleep 1000`))
	st := e.waitStatus("lj", "running")
	c := e.ocicmdListJSON("lj")
	if c["pid"] != float64(st.Pid) || c["status"] != "running" || c["owner"] != "root" ||
		c["rootfs"] != rootfs || c["bundle"] == "" || c["created"] == "" || c["ociVersion"] == "" {
		t.Errorf("list --format json entry: %v", c)
	}
	if out := e.ok(e.run("list", "-q")); strings.TrimSpace(out) != "lj" {
		t.Errorf("list -q: %q", out)
	}
	failsWith(t, e.run("delete", "lj"), "delete -f")
	e.ok(e.run("delete", "--force", "lj"))
	e.assertGone("lj")
	waitDead(t, st.Pid)
}

func TestOCICmdEventsOOM(t *testing.T) {
	e := newEnv(t)
	// tail keeps the one endless "line" of /dev/zero: it grows until the
	// OOM killer takes it, while the init lives on. USR1 (which the init,
	// pid 1 of its namespace, gets only because it traps it) starts it.
	e.ok(e.detach("oom", `go=; trap go=1 USR1; echo up; while [ -z "$go" ]; do sleep 0.05; done; head -c 209715200 /dev/zero | tail; echo after; sleep 1000`,
		"--memory", "16M"))
	e.waitLog("oom", "up")
	c := e.cmd("events", "--interval", "1h", "oom")
	var stderr strings.Builder
	c.Stderr = &stderr
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	defer func() {
		c.Process.Kill()
		<-done
	}()
	events := make(chan ocicmdEvent)
	go func() {
		dec := json.NewDecoder(stdout)
		for {
			var ev ocicmdEvent
			if dec.Decode(&ev) != nil {
				close(events)
				return
			}
			events <- ev
		}
	}()
	next := func() ocicmdEvent {
		select {
		case ev, ok := <-events:
			if !ok {
				// stderr is complete only once Wait has returned.
				werr := <-done
				done <- werr
				t.Fatalf("events ended early (%v): %s\nstate: %s\nlog: %s", werr, stderr.String(),
					e.run("state", "oom").stdout, e.run("logs", "oom").stdout)
			}
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event in 20s")
		}
		return ocicmdEvent{}
	}
	// The first stats come at once; only then is the OOM count's baseline known.
	if ev := next(); ev.Type != "stats" {
		t.Fatalf("first event %+v, want stats", ev)
	}
	e.ok(e.run("kill", "oom", "USR1"))
	if ev := next(); ev.Type != "oom" || ev.ID != "oom" {
		t.Fatalf("event after the memory hog: %+v, want oom", ev)
	}
	// The kernel picks the victim: usually the hog, and the script goes on;
	// sometimes the shell itself, and the container ends as OOM-killed.
	if !eventually(10*time.Second, func() bool {
		return strings.Contains(e.ok(e.run("logs", "oom")), "after") || e.stateFile("oom").ExitCode != nil
	}) {
		t.Errorf("neither went on nor ended after the OOM kill: state %+v, ps %s, logs %q",
			e.state("oom"), e.run("ps", "oom"), e.ok(e.run("logs", "oom")))
	}
	if st := e.stateFile("oom"); st.ExitCode != nil && (*st.ExitCode != 137 || !strings.Contains(st.ExitMessage, "out of memory")) {
		t.Errorf("container ended with %d %q, want 137 and the OOM message", *st.ExitCode, st.ExitMessage)
	}
	e.ok(e.run("delete", "-f", "oom"))
}

package e2e

// Pure cgroup v2 behaviour: limits land in the unified files, the process
// is born in its cgroup, delete -f empties and removes it, and the eBPF
// device filter enforces the allow-list. Skipped unless
// LLCR_EXPECT_CGROUP=v2 (the VM of `make test-v2`).

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// v2Limit starts a container with flags, and returns what it reads in its
// own cgroup file name (through its cgroup namespace) and what the host
// reads in the container's cgroup.
func v2Limit(t *testing.T, id, name string, flags ...string) (inside, host string) {
	t.Helper()
	e := newEnv(t)
	e.v2Detach(id, "cat /sys/fs/cgroup/"+name+"; echo ready; exec sleep 600", flags...)
	got := e.v2Log(id, "ready")
	host = v2File(t, id, name)
	if len(got) != 1 {
		t.Fatalf("container read %s as %q, want one line", name, got)
	}
	return strings.TrimSpace(got[0]), host
}

func TestV2MemoryMax(t *testing.T) {
	needV2(t)
	inside, host := v2Limit(t, "v2-memory", "memory.max", "--memory", "64M")
	if want := strconv.Itoa(64 << 20); host != want || inside != want {
		t.Fatalf("memory.max: host %q, container %q; want %s", host, inside, want)
	}
}

func TestV2OOMKill(t *testing.T) {
	needV2(t)
	e := newEnv(t)
	r := e.sh("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived", "--name", "v2-oom", "--memory", "64M")
	if r.code != 137 {
		t.Fatalf("want exit 137 for an OOM kill, got %s", r)
	}
	if want := "container v2-oom was killed: out of memory (limit 64MiB)"; !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr lacks %q: %s", want, r)
	}
	if strings.Contains(r.stdout, "survived") {
		t.Fatalf("the shell survived allocating 200MB under a 64MiB limit: %s", r)
	}
}

func TestV2PidsMax(t *testing.T) {
	needV2(t)
	inside, host := v2Limit(t, "v2-pids", "pids.max", "--pids-limit", "16")
	if host != "16" || inside != "16" {
		t.Fatalf("pids.max: host %q, container %q; want 16", host, inside)
	}
}

func TestV2PidsLimitEnforced(t *testing.T) {
	needV2(t)
	e := newEnv(t)
	// The shell and 7 sleeps fill a limit of 8; the 8th fork must fail.
	// The failed fork ends the shell, and with it the sleeps.
	r := e.sh("i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo spawned-all", "--pids-limit", "8")
	if strings.Contains(r.stdout, "spawned-all") {
		t.Fatalf("20 processes started under --pids-limit 8: %s", r)
	}
	if !strings.Contains(r.stderr, "Resource temporarily unavailable") {
		t.Fatalf("want the fork to fail with EAGAIN, got %s", r)
	}
}

func TestV2CPUMax(t *testing.T) {
	needV2(t)
	inside, host := v2Limit(t, "v2-cpu", "cpu.max", "--cpus", "0.5")
	if host != "50000 100000" || inside != "50000 100000" {
		t.Fatalf("cpu.max: host %q, container %q; want \"50000 100000\"", host, inside)
	}
}

// TestV2BornInCgroup: the container's process is in its own cgroup, which
// its cgroup namespace shows as the root.
func TestV2BornInCgroup(t *testing.T) {
	needV2(t)
	e := newEnv(t)
	const id = "v2-born"
	e.v2Detach(id, "cat /proc/1/cgroup; echo ready; exec sleep 600")
	got := e.v2Log(id, "ready")
	if len(got) != 1 || got[0] != "0::/" {
		t.Errorf("/proc/1/cgroup inside: %q, want [\"0::/\"]", got)
	}
	pid := e.v2Running(id)
	procs := strings.Fields(v2File(t, id, "cgroup.procs"))
	found := false
	for _, p := range procs {
		found = found || p == strconv.Itoa(pid)
	}
	if !found {
		t.Errorf("pid %d not in %s/%s/cgroup.procs: %v", pid, v2Root, id, procs)
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(b)), "0::/llcr/"+id; got != want {
		t.Errorf("/proc/%d/cgroup on the host: %q, want %q", pid, got, want)
	}
}

// TestV2DeleteForce: delete -f of a running container kills everything in
// its cgroup (cgroup.kill) and removes the cgroup before it returns.
func TestV2DeleteForce(t *testing.T) {
	needV2(t)
	e := newEnv(t)
	const id = "v2-delete"
	// A child that ignores SIGTERM, so only a kill of the whole cgroup
	// gets rid of it.
	e.v2Detach(id, "(trap '' TERM; exec sleep 600) & echo ready; exec sleep 600")
	e.v2Log(id, "ready")
	pid := e.v2Running(id)
	dir := filepath.Join(v2Root, id)
	var procs []string
	v2Eventually(10*time.Second, func() bool {
		procs = strings.Fields(v2File(t, id, "cgroup.procs"))
		return len(procs) >= 2
	})
	if len(procs) < 2 {
		t.Fatalf("want 2 processes in %s/cgroup.procs, got %v", dir, procs)
	}
	if r := e.run("delete", "-f", id); r.code != 0 {
		t.Fatalf("delete -f %s: %s", id, r)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after delete -f (%v)", dir, err)
	}
	for _, p := range procs {
		n, _ := strconv.Atoi(p)
		if n > 0 && !v2Eventually(5*time.Second, func() bool { return !v2Alive(n) }) {
			t.Errorf("process %d of %s (container pid %d) survived delete -f", n, id, pid)
		}
	}
	if r := e.run("state", id); r.code == 0 {
		t.Errorf("state of deleted %s still succeeds: %s", id, r)
	}
}

// TestV2DeviceFilter: the eBPF program attached to the container's cgroup
// allows the default devices and denies opening any other node, even one
// the container may create. The nodes are made in the container's own /dev
// tmpfs, which is not nodev: a refusal there comes from the filter.
func TestV2DeviceFilter(t *testing.T) {
	needV2(t)
	e := newEnv(t)
	r := e.sh(`head -c1 /dev/zero | wc -c
echo x >/dev/null && echo null-ok
mknod /dev/v2-zero c 1 5 && head -c1 /dev/v2-zero | wc -c
mknod /dev/v2-sda b 8 0 && echo mknod-ok
head -c1 /dev/v2-sda; echo "sda=$?"
mknod /dev/v2-tun c 10 200 && cat /dev/v2-tun; echo "tun=$?"`)
	if r.code != 0 {
		t.Fatalf("want exit 0, got %s", r)
	}
	got := strings.Fields(r.stdout)
	want := []string{"1", "null-ok", "1", "mknod-ok", "sda=1", "tun=1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("stdout %q, want %q (stderr %q)", got, want, r.stderr)
	}
	// EPERM from the filter, not ENXIO from a missing disk or ENODEV from
	// a missing driver.
	for _, node := range []string{"/dev/v2-sda", "/dev/v2-tun"} {
		found := false
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.Contains(l, node) {
				found = true
				if !strings.Contains(l, "Operation not permitted") {
					t.Errorf("opening %s: %q, want EPERM (Operation not permitted)", node, l)
				}
			}
		}
		if !found {
			t.Errorf("no error opening %s on stderr: %q", node, r.stderr)
		}
	}
}

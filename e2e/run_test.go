package e2e

// The container run path, checked from inside the container and from the
// host: isolation, limits, identity, exit codes, signals, terminals and
// mounts.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

func randomSuffix(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestRunPID1(t *testing.T) {
	e := newEnv(t)
	if out := strings.TrimSpace(e.ok(e.sh("echo $$"))); out != "1" {
		t.Fatalf("echo $$ printed %q, want 1", out)
	}
	// PID 1 is the shell, the only other process is ps itself: nothing of
	// the host (this test binary, for one) is visible.
	// "; true" keeps sh from exec'ing its last command.
	out := e.ok(e.sh("ps -o pid,comm; true"))
	procs := lines(out)[1:]
	if len(procs) != 2 {
		t.Fatalf("ps shows %d processes, want 2 (sh and ps):\n%s", len(procs), out)
	}
	seen := map[string]string{}
	for _, p := range procs {
		f := strings.Fields(p)
		seen[f[0]] = f[1]
	}
	if seen["1"] != "sh" {
		t.Fatalf("PID 1 is not the container's sh:\n%s", out)
	}
	for pid, comm := range seen {
		if comm != "sh" && comm != "ps" {
			t.Fatalf("foreign process %s (%s) visible in the container:\n%s", pid, comm, out)
		}
	}
}

func TestRunHostname(t *testing.T) {
	e := newEnv(t)
	hostBefore, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	const script = "hostname; echo ---; cat /etc/hostname; echo ---; cat /etc/hosts"
	check := func(name string, flags ...string) {
		t.Helper()
		parts := strings.Split(e.ok(e.sh(script, flags...)), "---\n")
		if len(parts) != 3 {
			t.Fatalf("unexpected output %q", parts)
		}
		if got := strings.TrimSpace(parts[0]); got != name {
			t.Errorf("%v: hostname %q, want %q", flags, got, name)
		}
		if got := strings.TrimSpace(parts[1]); got != name {
			t.Errorf("%v: /etc/hostname %q, want %q", flags, got, name)
		}
		found := false
		for _, l := range lines(parts[2]) {
			f := strings.Fields(l)
			if len(f) > 1 && f[0] == "127.0.0.1" {
				for _, n := range f[1:] {
					found = found || n == name
				}
			}
		}
		if !found {
			t.Errorf("%v: /etc/hosts does not map 127.0.0.1 to %q:\n%s", flags, name, parts[2])
		}
	}
	check("llcr-named", "--name", "llcr-named")
	check("custom-host", "--hostname", "custom-host")
	check("custom-host", "--name", "llcr-named2", "--hostname", "custom-host")
	if after, _ := os.Hostname(); after != hostBefore {
		t.Fatalf("host's hostname changed from %q to %q", hostBefore, after)
	}
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc/hosts")); err != nil || len(b) != 0 {
		t.Fatalf("the rootfs's /etc/hosts was edited (%v): %q", err, b)
	}
}

func TestRunMountIsolation(t *testing.T) {
	e := newEnv(t)
	root := privateRootfs(t)
	before := treeSnapshot(t, root)
	// The volume's source carries a unique name: the bind shows it in the
	// container's mountinfo, and must not show up in the host's.
	marker := "llcrmark" + randomSuffix(t)
	sig := filepath.Join(t.TempDir(), marker)
	if err := os.Mkdir(sig, 0o755); err != nil {
		t.Fatal(err)
	}
	// Docker's capability set has no CAP_SYS_ADMIN: the container's own
	// mount attempts fail. It reports, then waits for the test's go-ahead,
	// so the host is checked while the container's mounts exist.
	script := `mount -t tmpfs llcr /tmp 2>/dev/null && echo mounted
touch /sig/ready
i=0; while [ ! -e /sig/go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
grep -q ` + marker + ` /proc/self/mountinfo || exit 8`
	b := e.start("--rootfs", root, "--name", "llcr-mnt", "-v", sig+":/sig", "--", "/bin/sh", "-c", script)
	waitFor(t, "the container to start", func() bool {
		_, err := os.Stat(filepath.Join(sig, "ready"))
		return err == nil || b.exited()
	})
	if b.exited() {
		t.Fatalf("container exited early: %s", b.wait())
	}
	pid := e.containerPid("llcr-mnt")
	inner, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{marker, " /proc ", " /dev ", " /sys ", " /etc/hosts "} {
		if !strings.Contains(string(inner), want) {
			t.Fatalf("the container's mountinfo lacks %q: the checks below would prove nothing:\n%s", want, inner)
		}
	}
	host, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{marker, root} {
		if strings.Contains(string(host), leak) {
			t.Errorf("a container mount (%s) is visible in the host's mountinfo", leak)
		}
	}
	if err := os.WriteFile(filepath.Join(sig, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.ok(b.wait())
	if strings.Contains(r, "mounted") {
		t.Errorf("the container could mount a tmpfs: it has CAP_SYS_ADMIN")
	}
	host, _ = os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(host), marker) {
		t.Errorf("the container's volume %s is in the host's mountinfo after it exited", marker)
	}
	// The volume's mountpoint /sig is the only thing the run may add.
	after := treeSnapshot(t, root)
	gone, added := diffLines(before, after)
	if len(gone) > 0 || len(added) != 1 || !strings.HasPrefix(added[0], "sig ") {
		t.Fatalf("the rootfs changed:\n  removed or changed: %q\n  added: %q", gone, added)
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/hosts")); err != nil || len(b) != 0 {
		t.Fatalf("the rootfs's /etc/hosts was edited (%v): %q", err, b)
	}
}

func TestRunProcSysDev(t *testing.T) {
	t.Run("sys read-only", func(t *testing.T) {
		e := newEnv(t)
		r := e.sh("touch /sys/x")
		if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
			t.Fatalf("touch /sys/x: want failure with EROFS, got %s", r)
		}
	})
	t.Run("proc sys read-only", func(t *testing.T) {
		e := newEnv(t)
		r := e.sh("echo llcr > /proc/sys/kernel/domainname")
		if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
			t.Fatalf("write /proc/sys/kernel/domainname: want EROFS, got %s", r)
		}
		// The host's /proc/sys stays writable for the host, so a failure
		// above is the container's read-only bind.
		r = e.sh("grep -E ' /proc/sys ' /proc/self/mountinfo")
		if out := e.ok(r); !strings.Contains(out, " ro") {
			t.Fatalf("/proc/sys is not a read-only mount: %q", out)
		}
	})
	t.Run("sysrq-trigger", func(t *testing.T) {
		e := newEnv(t)
		if _, err := os.Stat("/proc/sysrq-trigger"); err != nil {
			t.Skip("the host kernel has no /proc/sysrq-trigger")
		}
		if r := e.sh("echo h > /proc/sysrq-trigger"); r.code == 0 {
			t.Fatalf("/proc/sysrq-trigger is writable: %s", r)
		}
	})
	t.Run("masked", func(t *testing.T) {
		e := newEnv(t)
		// /proc/kcore is masked where the kernel has it; /proc/keys and
		// /proc/timer_list are on the same list and present on most hosts.
		var files []string
		for _, f := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list"} {
			if _, err := os.Stat(f); err == nil {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			t.Skip("none of the masked files exists on this host")
		}
		for _, f := range files {
			out := e.ok(e.sh("wc -c < " + f))
			if strings.TrimSpace(out) != "0" {
				t.Errorf("%s reads %s bytes, want 0 (masked)", f, strings.TrimSpace(out))
			}
		}
		out := e.ok(e.sh("ls -A /sys/firmware | wc -l; touch /sys/firmware/x 2>/dev/null && echo writable; true"))
		if strings.TrimSpace(out) != "0" {
			t.Fatalf("/sys/firmware is not an empty read-only dir: %q", out)
		}
	})
	t.Run("dev", func(t *testing.T) {
		e := newEnv(t)
		out := e.ok(e.sh(`for n in null zero full random urandom tty; do stat -c "$n %F %t:%T" /dev/$n; done
for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
stat -c "pts %F" /dev/pts; stat -c "ptsptmx %F" /dev/pts/ptmx
stat -c "shm %F" /dev/shm; stat -c "mqueue %F" /dev/mqueue
grep -E ' /dev/(shm|mqueue|pts) ' /proc/self/mountinfo | awk '{for (i = 7; i < NF; i++) if ($i == "-") print $5, $(i+1)}'
head -c 4 /dev/zero | od -An -tx1; echo x > /dev/full || echo full-failed`))
		want := []string{
			"null character special file 1:3", "zero character special file 1:5",
			"full character special file 1:7", "random character special file 1:8",
			"urandom character special file 1:9", "tty character special file 5:0",
			"fd -> /proc/self/fd", "stdin -> /proc/self/fd/0", "stdout -> /proc/self/fd/1",
			"stderr -> /proc/self/fd/2", "ptmx -> pts/ptmx",
			"pts directory", "ptsptmx character special file", "shm directory", "mqueue directory",
			"/dev/pts devpts", "/dev/shm tmpfs", "/dev/mqueue mqueue",
			"00 00 00 00", "full-failed",
		}
		got := lines(out)
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("missing %q in /dev listing:\n%s", w, out)
			}
		}
	})
}

func TestRunNamespaces(t *testing.T) {
	e := newEnv(t)
	kinds := []string{"uts", "ipc", "net", "cgroup", "mnt", "pid"}
	out := e.ok(e.sh("for n in " + strings.Join(kinds, " ") + "; do echo $n $(readlink /proc/self/ns/$n); done"))
	inside := map[string]string{}
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) == 2 {
			inside[f[0]] = f[1]
		}
	}
	for _, k := range kinds {
		host, err := os.Readlink("/proc/self/ns/" + k)
		if err != nil {
			t.Fatal(err)
		}
		if inside[k] == "" || !strings.HasPrefix(inside[k], k+":[") {
			t.Errorf("%s namespace: container shows %q", k, inside[k])
		} else if inside[k] == host {
			t.Errorf("%s namespace is the host's (%s)", k, host)
		}
	}
	// Only lo, and it is up (IFF_UP is bit 0 of the flags).
	out = e.ok(e.sh("ls /sys/class/net; cat /sys/class/net/lo/flags; ip link show lo"))
	l := lines(out)
	if len(l) < 3 || l[0] != "lo" {
		t.Fatalf("interfaces: want only lo, got:\n%s", out)
	}
	flags, err := strconv.ParseUint(strings.TrimPrefix(l[1], "0x"), 16, 32)
	if err != nil || flags&unix.IFF_UP == 0 {
		t.Fatalf("lo is not up: flags %q", l[1])
	}
	if !strings.Contains(l[2], "UP") {
		t.Fatalf("ip link does not show lo UP: %q", l[2])
	}
	// And it works: a listener on 127.0.0.1 is reachable.
	out = e.ok(e.sh("nc -l -p 7777 127.0.0.1 > /tmp/got & sleep 0.3; echo ping | nc -w 2 127.0.0.1 7777; wait; cat /tmp/got"))
	if !strings.Contains(out, "ping") {
		t.Fatalf("loopback does not carry traffic: %q", out)
	}
}

// cgroupRead prints the first of the given cgroup files (relative to
// /sys/fs/cgroup inside the container) that exists, prefixed with its name.
const cgroupRead = `read_cg() { for f in "$@"; do if [ -f /sys/fs/cgroup/$f ]; then echo "$f=$(cat /sys/fs/cgroup/$f)"; return; fi; done; echo "none of $*"; }
`

func cgValue(t *testing.T, out, name string) (file, value string) {
	t.Helper()
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(l, name) {
			return k, v
		}
	}
	t.Fatalf("no %s value in:\n%s", name, out)
	return "", ""
}

func TestRunCgroups(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		e := newEnv(t)
		out := e.ok(e.sh(cgroupRead+`echo -n mem; read_cg memory/memory.limit_in_bytes memory.max
echo -n swap; read_cg memory/memory.memsw.limit_in_bytes memory.swap.max`, "--memory", "64M"))
		file, v := cgValue(t, out, "mem")
		if v != "67108864" {
			t.Fatalf("%s = %q, want 67108864", file, v)
		}
		for _, l := range lines(out) {
			switch {
			case strings.HasPrefix(l, "swapmemory/memory.memsw.limit_in_bytes="):
				// v1: memsw is memory+swap, so equal to the limit means no swap.
				if v := strings.TrimPrefix(l, "swapmemory/memory.memsw.limit_in_bytes="); v != "67108864" {
					t.Fatalf("memsw limit %q, want 67108864", v)
				}
			case strings.HasPrefix(l, "swapmemory.swap.max="):
				if v := strings.TrimPrefix(l, "swapmemory.swap.max="); v != "0" {
					t.Fatalf("swap.max %q, want 0", v)
				}
			}
		}
	})
	t.Run("pids", func(t *testing.T) {
		e := newEnv(t)
		// Twenty sleepers against a limit of ten: forks fail and the
		// number of live processes never passes the limit. Once the limit
		// is reached only builtins work, so the count is read with one.
		out := e.ok(e.sh(cgroupRead+`read_cg pids/pids.max pids.max
cur=pids/pids.current; [ -f /sys/fs/cgroup/$cur ] || cur=pids.current
fail=0; i=0
while [ $i -lt 20 ]; do i=$((i+1)); (sleep 5 &) 2>/dev/null || fail=$((fail+1)); done
read live < /sys/fs/cgroup/$cur
echo live=$live
echo fail=$fail
kill -9 -1 2>/dev/null; true`, "--pids-limit", "10"))
		if _, v := cgValue(t, out, "pids"); v != "10" {
			t.Fatalf("pids.max = %q, want 10\n%s", v, out)
		}
		_, live := cgValue(t, out, "live")
		if n, _ := strconv.Atoi(live); n > 10 || n == 0 {
			t.Fatalf("%s processes alive under a limit of 10:\n%s", live, out)
		}
		if _, f := cgValue(t, out, "fail"); f == "0" {
			t.Fatalf("no fork failed under a limit of 10:\n%s", out)
		}
	})
	t.Run("cpu", func(t *testing.T) {
		e := newEnv(t)
		out := e.ok(e.sh(cgroupRead+`echo -n q; read_cg cpu.max cpu/cpu.cfs_quota_us cpu,cpuacct/cpu.cfs_quota_us
echo -n p; read_cg cpu/cpu.cfs_period_us cpu,cpuacct/cpu.cfs_period_us`, "--cpus", "0.5"))
		file, v := cgValue(t, out, "q")
		if file == "qcpu.max" {
			if v != "50000 100000" {
				t.Fatalf("cpu.max %q, want \"50000 100000\"", v)
			}
			return
		}
		if v != "50000" {
			t.Fatalf("%s = %q, want 50000", file, v)
		}
		if _, p := cgValue(t, out, "p"); p != "100000" {
			t.Fatalf("cfs period %q, want 100000", p)
		}
	})
}

func TestRunOOM(t *testing.T) {
	e := newEnv(t)
	r := e.sh("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived", "--name", "llcr-oom", "--memory", "64M")
	if r.code != 137 {
		t.Fatalf("want exit 137 for an OOM kill, got %s", r)
	}
	want := "container llcr-oom was killed: out of memory (limit 64MiB)"
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr lacks %q: %s", want, r)
	}
	if strings.Contains(r.stdout, "survived") {
		t.Fatalf("the shell survived allocating 200MB under a 64MiB limit: %s", r)
	}
}

func TestRunUserNamespace(t *testing.T) {
	e := newEnv(t)
	root := privateRootfs(t)
	before := treeSnapshot(t, root)
	maps := []string{"--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536"}
	out := e.ok(e.shIn(root, `cat /proc/self/uid_map; cat /proc/self/gid_map; id -u; id -g
touch /created && rm /created && echo created-and-deleted
touch /root/keep && echo kept`, maps...))
	l := lines(out)
	if len(l) < 6 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	for i, name := range []string{"uid_map", "gid_map"} {
		if f := strings.Fields(l[i]); strings.Join(f, " ") != "0 100000 65536" {
			t.Errorf("%s inside: %q, want 0 100000 65536", name, l[i])
		}
	}
	if l[2] != "0" || l[3] != "0" {
		t.Errorf("id -u/-g: %s %s, want 0 0", l[2], l[3])
	}
	if l[4] != "created-and-deleted" || l[5] != "kept" {
		t.Fatalf("container root could not write its rootfs:\n%s", out)
	}
	// Through the idmapped rootfs the container's root wrote as the host's
	// root: no file owned by 100000 appears in the user's tree.
	var st syscall.Stat_t
	keep := filepath.Join(root, "root/keep")
	if err := syscall.Stat(keep, &st); err != nil {
		t.Fatalf("file written by the container's root: %v", err)
	}
	if st.Uid != 0 || st.Gid != 0 {
		t.Errorf("file written by the container's root is owned by %d:%d on the host, want 0:0", st.Uid, st.Gid)
	}
	os.Remove(keep)
	if _, err := os.Stat(filepath.Join(root, "created")); err == nil {
		t.Errorf("the file the container deleted is still in the rootfs")
	}
	after := treeSnapshot(t, root)
	if gone, added := diffLines(before, after); len(gone)+len(added) > 0 {
		t.Errorf("the rootfs changed:\n  removed or changed: %q\n  added: %q", gone, added)
	}
	// Volumes below a directory only the host's root may enter (the test's
	// 0700 temp dir, like the 0700 state root) still mount: the runtime
	// opens their sources, not the container's root. A :ro one stays
	// read-only; writes to a rw one land as the mapped host uid.
	vol := filepath.Join(t.TempDir(), "vol")
	if err := os.Mkdir(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(vol, 0o777) // past the umask
	r := e.shIn(root, "touch /rw/f && echo rw-ok; touch /ro/f", append(maps, "-v", vol+":/rw", "-v", vol+":/ro:ro")...)
	if r.code == 0 || !strings.Contains(r.stdout, "rw-ok") || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("volumes in a user namespace: want rw writable and ro EROFS, got %s", r)
	}
	if err := syscall.Stat(filepath.Join(vol, "f"), &st); err != nil || st.Uid != 100000 {
		t.Errorf("file written to a volume by the container's root: uid %d (%v), want host uid 100000", st.Uid, err)
	}
	// A user outside the map is refused before anything starts.
	r = e.run(append(append([]string{"--rootfs", root}, maps...), "-u", "70000", "--", "id")...)
	if r.code != 125 || !strings.Contains(r.stderr, "70000") {
		t.Fatalf("-u 70000 outside a 65536-wide map: want exit 125 naming the uid, got %s", r)
	}
}

func TestRunExitCodes(t *testing.T) {
	e := newEnv(t)
	if r := e.sh("exit 3"); r.code != 3 {
		t.Errorf("exit 3: got %s", r)
	}
	r := e.run("--rootfs", rootfs, "--", "llcr-no-such-command")
	if r.code != 127 || !strings.Contains(r.stderr, "llcr-no-such-command") {
		t.Errorf("missing command: want 127 naming it, got %s", r)
	}
	r = e.run("--rootfs", rootfs, "--", "/no/such/path")
	if r.code != 127 || !strings.Contains(r.stderr, "/no/such/path") {
		t.Errorf("missing absolute command: want 127 naming it, got %s", r)
	}
	r = e.run("--rootfs", rootfs, "--", "/etc")
	if r.code != 126 || !strings.Contains(r.stderr, "/etc") {
		t.Errorf("directory as command: want 126, got %s", r)
	}
	r = e.run("--rootfs", rootfs, "--", "/etc/passwd")
	if r.code != 126 {
		t.Errorf("non-executable file as command: want 126, got %s", r)
	}
	t.Run("SIGKILL to the process", func(t *testing.T) {
		e := newEnv(t)
		b := e.start("--rootfs", rootfs, "--name", "llcr-kill1", "--", "/bin/sleep", "100")
		pid := e.containerPid("llcr-kill1")
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if r := b.wait(); r.code != 137 {
			t.Fatalf("want 137, got %s", r)
		}
	})
	t.Run("container kill", func(t *testing.T) {
		e := newEnv(t)
		b := e.start("--rootfs", rootfs, "--name", "llcr-kill2", "--", "/bin/sleep", "100")
		e.containerPid("llcr-kill2")
		e.ok(e.run("kill", "llcr-kill2", "KILL"))
		if r := b.wait(); r.code != 137 {
			t.Fatalf("want 137, got %s", r)
		}
	})
}

func TestRunSignalForwarding(t *testing.T) {
	for _, sig := range []syscall.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
		unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH} {
		name := strings.TrimPrefix(unix.SignalName(sig), "SIG")
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			// PID 1 only receives signals it handles: the trap is the handler.
			script := fmt.Sprintf(`trap 'echo got %s; exit 0' %s
echo ready
i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
echo no-signal; exit 1`, name, name)
			b := e.start("--rootfs", rootfs, "--", "/bin/sh", "-c", script)
			b.waitOutput("ready")
			if err := b.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := b.wait()
			if r.code != 0 || !strings.Contains(r.stdout, "got "+name) {
				t.Fatalf("SIG%s not forwarded to the container: %s", name, r)
			}
		})
	}
}

func TestRunReadOnly(t *testing.T) {
	e := newEnv(t)
	r := e.sh("touch /x", "--read-only")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("touch /x on a read-only rootfs: want EROFS, got %s", r)
	}
	out := e.ok(e.sh("echo ok > /dev/shm/f && cat /dev/shm/f", "--read-only"))
	if strings.TrimSpace(out) != "ok" {
		t.Fatalf("/dev/shm is not writable under --read-only: %q", out)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "x")); err == nil {
		t.Fatalf("a file appeared in the rootfs")
	}
}

func TestRunVolumes(t *testing.T) {
	root := privateRootfs(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "in"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("rw", func(t *testing.T) {
		e := newEnv(t)
		out := e.ok(e.shIn(root, "cat /data/in; echo from-container > /data/out", "-v", host+":/data"))
		if strings.TrimSpace(out) != "from-host" {
			t.Fatalf("container sees %q in the volume", out)
		}
		b, err := os.ReadFile(filepath.Join(host, "out"))
		if err != nil || string(b) != "from-container\n" {
			t.Fatalf("write did not go through to the host: %q %v", b, err)
		}
	})
	t.Run("ro", func(t *testing.T) {
		e := newEnv(t)
		r := e.shIn(root, "cat /data/in; echo x > /data/ro-write", "-v", host+":/data:ro")
		if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") || !strings.Contains(r.stdout, "from-host") {
			t.Fatalf(":ro volume: want readable and EROFS on write, got %s", r)
		}
		if _, err := os.Stat(filepath.Join(host, "ro-write")); err == nil {
			t.Fatalf("write to a :ro volume reached the host")
		}
	})
	for _, kind := range []string{"absolute", "relative"} {
		t.Run("symlink escape "+kind, func(t *testing.T) {
			e := newEnv(t)
			escape := "/tmp/llcr-escape-" + randomSuffix(t)
			target := escape
			if kind == "relative" {
				target = "../../../../../../.." + escape
			}
			link := "evil-" + kind
			if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(filepath.Join(root, link))
			defer os.RemoveAll(filepath.Join(root, escape))
			defer os.RemoveAll(escape) // only if the test fails
			out := e.ok(e.shIn(root, "cat /"+link+"/x/in", "-v", host+":/"+link+"/x"))
			if strings.TrimSpace(out) != "from-host" {
				t.Fatalf("volume through the symlink not visible: %q", out)
			}
			if _, err := os.Lstat(escape); err == nil {
				t.Fatalf("the volume's mountpoint escaped the rootfs to the host's %s", escape)
			}
			if fi, err := os.Stat(filepath.Join(root, escape, "x")); err != nil || !fi.IsDir() {
				t.Fatalf("the mountpoint did not land inside the rootfs at %s: %v", filepath.Join(root, escape, "x"), err)
			}
		})
	}
	t.Run("missing source", func(t *testing.T) {
		e := newEnv(t)
		missing := filepath.Join(host, "llcr-no-such-dir")
		snap := treeSnapshot(t, root)
		r := e.shIn(root, "true", "-v", missing+":/nothere")
		if r.code != 125 || !strings.Contains(r.stderr, missing) {
			t.Fatalf("missing volume source: want exit 125 naming %s, got %s", missing, r)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("the missing source was created")
		}
		if gone, added := diffLines(snap, treeSnapshot(t, root)); len(gone)+len(added) > 0 {
			t.Fatalf("a failed start changed the rootfs: -%q +%q", gone, added)
		}
	})
}

// envNames returns the variable names of `env` output, sorted.
func envNames(out string) []string {
	var names []string
	for _, l := range lines(out) {
		k, _, _ := strings.Cut(l, "=")
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func TestRunEnv(t *testing.T) {
	e := newEnv(t)
	c := e.cmd("--rootfs", rootfs, "--name", "llcr-env", "-e", "A=1", "-e", "B=x=y", "-e", "LLCR_K", "--", "/bin/env")
	c.Env = append(os.Environ(), "FOO_LEAK=1", "LLCR_K=host-value")
	r := e.startCmd(c).wait()
	out := e.ok(r)
	got := strings.Join(envNames(out), " ")
	if want := "A B HOME HOSTNAME LLCR_K PATH"; got != want {
		t.Fatalf("environment names %q, want %q:\n%s", got, want, out)
	}
	for _, w := range []string{"A=1", "B=x=y", "LLCR_K=host-value", "HOSTNAME=llcr-env", "HOME=/root",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
		if !strings.Contains("\n"+out, "\n"+w+"\n") {
			t.Errorf("missing %s in:\n%s", w, out)
		}
	}
}

func TestRunWorkdirUser(t *testing.T) {
	e := newEnv(t)
	root := privateRootfs(t)
	if _, err := os.Stat(filepath.Join(root, "tmp/work")); err == nil {
		t.Fatal("the rootfs already has /tmp/work: the test would not show it is created")
	}
	out := e.ok(e.run("--rootfs", root, "-w", "/tmp/work", "--", "/bin/pwd"))
	if strings.TrimSpace(out) != "/tmp/work" {
		t.Fatalf("pwd %q, want /tmp/work", out)
	}
	// A user's workdir that does not exist yet is created for them too.
	out = e.ok(e.run("--rootfs", root, "-u", "1000", "-w", "/home/user/new", "--", "/bin/pwd"))
	if strings.TrimSpace(out) != "/home/user/new" {
		t.Fatalf("pwd %q as uid 1000, want /home/user/new", out)
	}
	for _, u := range []string{"1000:1000", "user"} {
		out := e.ok(e.shIn(root, "id; echo HOME=$HOME", "-u", u))
		l := lines(out)
		if len(l) != 2 || !strings.HasPrefix(l[0], "uid=1000(user) gid=1000(user)") || l[1] != "HOME=/home/user" {
			t.Errorf("-u %s: got\n%s", u, out)
		}
	}
	r := e.run("--rootfs", root, "-u", "llcr-nobody", "--", "id")
	if r.code != 125 || !strings.Contains(r.stderr, "llcr-nobody") {
		t.Fatalf("unknown user: want 125 naming it, got %s", r)
	}
}

func capMask(caps ...int) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << uint(c)
	}
	return m
}

func statusField(t *testing.T, status, key string) string {
	t.Helper()
	for _, l := range lines(status) {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/self/status:\n%s", key, status)
	return ""
}

func TestRunSecurityBaseline(t *testing.T) {
	e := newEnv(t)
	docker := capMask(unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID, unix.CAP_FOWNER,
		unix.CAP_MKNOD, unix.CAP_NET_RAW, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETFCAP,
		unix.CAP_SETPCAP, unix.CAP_NET_BIND_SERVICE, unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE)
	hex := func(m uint64) string { return fmt.Sprintf("%016x", m) }
	status := e.ok(e.run("--rootfs", rootfs, "--", "/bin/cat", "/proc/self/status"))
	for k, want := range map[string]string{
		"CapBnd": hex(docker), "CapEff": hex(docker), "CapPrm": hex(docker),
		"CapInh": hex(0), "CapAmb": hex(0), "NoNewPrivs": "1",
	} {
		if got := statusField(t, status, k); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	status = e.ok(e.run("--rootfs", rootfs, "-u", "1000", "--", "/bin/cat", "/proc/self/status"))
	for k, want := range map[string]string{"CapEff": hex(0), "CapPrm": hex(0), "CapBnd": hex(docker)} {
		if got := statusField(t, status, k); got != want {
			t.Errorf("-u 1000: %s = %s, want %s", k, got, want)
		}
	}
	// The exec'd process, inspected from the host: nothing but stdio is open.
	b := e.start("--rootfs", rootfs, "--name", "llcr-fds", "--", "/bin/sleep", "100")
	pid := e.containerPid("llcr-fds")
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, d := range ents {
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, d.Name()))
		fds = append(fds, d.Name()+"->"+target)
	}
	if len(fds) != 3 || !strings.HasPrefix(fds[0], "0->") || !strings.HasPrefix(fds[1], "1->") || !strings.HasPrefix(fds[2], "2->") {
		t.Errorf("the container's process has fds %v, want only 0, 1, 2", fds)
	}
	e.ok(e.run("kill", "llcr-fds", "KILL"))
	b.wait()
}

func TestRunStdin(t *testing.T) {
	e := newEnv(t)
	out := e.ok(e.runIn([]byte("data\nmore\n"), "--rootfs", rootfs, "--", "/bin/cat"))
	if out != "data\nmore\n" {
		t.Fatalf("cat echoed %q", out)
	}
	// Without input attached, stdin reads as empty rather than hanging.
	c := e.cmd("--rootfs", rootfs, "--", "/bin/cat")
	c.Stdin = nil
	if r := e.startCmd(c).wait(); r.code != 0 || r.stdout != "" {
		t.Fatalf("cat with no stdin: %s", r)
	}
}

// ptyRun starts the runtime on a fresh pty, as a session leader with the pty
// as its controlling terminal, like a shell would. The caller owns tty (the
// outer slave) for termios checks; output is the master's, collected.
type ptyRun struct {
	*bg
	ptmx, tty *os.File
	out       *syncBuffer
}

func (e *env) startPty(rows, cols uint16, args ...string) *ptyRun {
	e.t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		e.t.Fatal(err)
	}
	out := &syncBuffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	c := e.cmd(args...)
	c.Stdin, c.Stdout, c.Stderr = tty, tty, tty
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	return &ptyRun{bg: e.startCmd(c), ptmx: ptmx, tty: tty, out: out}
}

func (p *ptyRun) waitOut(s string) {
	p.t.Helper()
	waitFor(p.t, fmt.Sprintf("%q on the terminal (so far %q)", s, p.out.String()), func() bool {
		return strings.Contains(p.out.String(), s)
	})
}

func termiosOf(t *testing.T, f *os.File) unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("read termios: %v", err)
	}
	return *tio
}

func TestRunTTY(t *testing.T) {
	e := newEnv(t)
	script := `tty; test -t 0 && echo stdin-is-tty; stty size; echo TERM=$TERM; echo ready
i=0; while [ "$(stty size)" != "40 120" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
echo "resized $(stty size)"`
	p := e.startPty(30, 100, "--rootfs", rootfs, "-t", "--", "/bin/sh", "-c", script)
	before := termiosOf(t, p.tty)
	p.waitOut("ready")
	// The runtime put our terminal in raw mode, so keys reach the container.
	if raw := termiosOf(t, p.tty); raw.Lflag&(unix.ICANON|unix.ECHO) != 0 {
		t.Errorf("outer terminal still canonical/echoing while attached: lflag %#x", raw.Lflag)
	}
	if err := pty.Setsize(p.ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	r := p.wait()
	p.waitOut("resized")
	out := p.out.String()
	if r.code != 0 {
		t.Fatalf("exit %d, terminal output %q", r.code, out)
	}
	l := lines(out)
	if len(l) < 6 {
		t.Fatalf("terminal output %q", out)
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(l[0], "/dev/pts/")); err != nil || !strings.HasPrefix(l[0], "/dev/pts/") || n > 10 {
		t.Errorf("tty prints %q, want /dev/pts/N of the container's own devpts", l[0])
	}
	for i, want := range []string{"", "stdin-is-tty", "30 100", "TERM=xterm", "ready", "resized 40 120"} {
		if i > 0 && l[i] != want {
			t.Errorf("line %d: %q, want %q (output %q)", i, l[i], want, out)
		}
	}
	after := termiosOf(t, p.tty)
	if before.Lflag != after.Lflag || before.Iflag != after.Iflag || before.Oflag != after.Oflag || before.Cflag != after.Cflag {
		t.Errorf("outer terminal mode not restored: before %+v, after %+v", before, after)
	}
}

func TestRunTTYInteractive(t *testing.T) {
	e := newEnv(t)
	p := e.startPty(24, 80, "--rootfs", rootfs, "-t", "--", "/bin/sh")
	// Typed ahead of the prompt: the container's line discipline buffers it.
	if _, err := p.ptmx.Write([]byte("echo h''i; exit 5\n")); err != nil {
		t.Fatal(err)
	}
	r := p.wait()
	if r.code != 5 {
		t.Fatalf("exit %d, want 5; terminal output %q", r.code, p.out.String())
	}
	p.waitOut("hi")
	found := false
	for _, l := range lines(p.out.String()) {
		found = found || l == "hi"
	}
	if !found {
		t.Fatalf("no \"hi\" line in terminal output %q", p.out.String())
	}
}

func TestRunEnvTTY(t *testing.T) {
	e := newEnv(t)
	p := e.startPty(24, 80, "--rootfs", rootfs, "-t", "--name", "llcr-envtty", "--", "/bin/env")
	if r := p.wait(); r.code != 0 {
		t.Fatalf("exit %d: %q", r.code, p.out.String())
	}
	p.waitOut("PATH=")
	got := strings.Join(envNames(p.out.String()), " ")
	if want := "HOME HOSTNAME PATH TERM"; got != want {
		t.Fatalf("environment names %q with -t, want %q:\n%s", got, want, p.out.String())
	}
}

package e2e

// Helpers for the TestV2* tests, which assert behaviour only a pure cgroup
// v2 host has. They run in the VM of `make test-v2`, which sets
// LLCR_EXPECT_CGROUP=v2; elsewhere they skip.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// v2Root is where the runtime puts its containers' cgroups on a v2 host.
const v2Root = "/sys/fs/cgroup/llcr"

// needV2 skips unless the environment promises a pure v2 host, and fails
// when it promised one but /sys/fs/cgroup is something else: a v2 test
// that silently runs on v1 would prove nothing.
func needV2(t *testing.T) {
	t.Helper()
	if os.Getenv("LLCR_EXPECT_CGROUP") != "v2" {
		t.Skip("pure cgroup v2 behaviour: runs under `make test-v2` (LLCR_EXPECT_CGROUP=v2)")
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatalf("statfs /sys/fs/cgroup: %v", err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("LLCR_EXPECT_CGROUP=v2 but /sys/fs/cgroup is not cgroup2 (magic %#x)", st.Type)
	}
}

// v2Detach starts detached container id running script, and force-deletes
// it at the end of the test (before newEnv's leftover check, registered
// earlier and so run later).
func (e *env) v2Detach(id, script string, flags ...string) {
	e.t.Helper()
	args := append([]string{"--rootfs", rootfs, "-d", "--name", id}, flags...)
	r := e.run(append(args, "--", "/bin/sh", "-c", script)...)
	e.t.Cleanup(func() { e.run("delete", "-f", id) })
	if r.code != 0 {
		e.t.Fatalf("start detached %s: %s", id, r)
	}
}

// v2Running waits until container id runs and returns its host pid.
func (e *env) v2Running(id string) int {
	e.t.Helper()
	var st struct {
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	ok := v2Eventually(10*time.Second, func() bool {
		r := e.run("state", id)
		st.Status, st.Pid = "", 0
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil &&
			st.Status == "running" && st.Pid > 0
	})
	if !ok {
		e.t.Fatalf("container %s not running after 10s (status %q)", id, st.Status)
	}
	return st.Pid
}

// v2Log waits until the output of detached container id has a line equal
// to marker, and returns the lines before it.
func (e *env) v2Log(id, marker string) []string {
	e.t.Helper()
	var out string
	var got []string
	ok := v2Eventually(10*time.Second, func() bool {
		r := e.run("logs", id)
		out = r.stdout
		got = nil
		for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
			if l == marker {
				return true
			}
			got = append(got, l)
		}
		return false
	})
	if !ok {
		e.t.Fatalf("logs of %s never showed %q: %q", id, marker, out)
	}
	return got
}

// v2File reads a file of container id's cgroup on the host.
func v2File(t *testing.T, id, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(v2Root, id, name))
	if err != nil {
		t.Fatalf("read cgroup file of %s: %v", id, err)
	}
	return strings.TrimSpace(string(b))
}

func v2Eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// v2Alive reports whether pid exists and is not a zombie.
func v2Alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

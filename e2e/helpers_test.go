// Package e2e runs the real bin/container as root against a real busybox
// rootfs: real namespaces, cgroups and mounts. Each test checks afterwards
// that nothing is left behind.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	bin    = envOr("LLCR_BIN", "../bin/container")
	rootfs = envOr("LLCR_ROOTFS", "../build/rootfs")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e tests need root: run `sudo make test`")
		os.Exit(1)
	}
	var err error
	if bin, err = filepath.Abs(bin); err == nil {
		rootfs, err = filepath.Abs(rootfs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range []string{bin, filepath.Join(rootfs, "bin/busybox")} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v (run `make build rootfs` first)\n", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// result is one finished runtime invocation.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
}

// env is one test's world: a private state root, checked clean at the end.
type env struct {
	t    *testing.T
	root string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, root: t.TempDir()}
	t.Cleanup(e.checkClean)
	return e
}

// cmd builds an invocation of bin/container with this test's --root.
func (e *env) cmd(args ...string) *exec.Cmd {
	full := append([]string{"--root", e.root}, args...)
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		// A subcommand: the global flag goes first either way.
		full = append([]string{args[0], "--root", e.root}, args[1:]...)
	}
	return exec.Command(bin, full...)
}

// run runs bin/container to completion (bounded by a minute).
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn(nil, args...)
}

func (e *env) runIn(stdin []byte, args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	return e.runCmd(c)
}

// runCmd runs a prepared invocation to completion (bounded by a minute) and
// collects its output and exit code.
func (e *env) runCmd(c *exec.Cmd) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Start(); err != nil {
		e.t.Fatalf("start %v: %v", c.Args, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		c.Process.Kill()
		<-done
		e.t.Fatalf("%v did not finish in a minute", c.Args)
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run %v: %v", c.Args, err)
	}
	return r
}

// sh runs a shell script in a fresh container with extra flags before "--".
func (e *env) sh(script string, flags ...string) result {
	e.t.Helper()
	args := append([]string{"--rootfs", rootfs}, flags...)
	return e.run(append(args, "--", "/bin/sh", "-c", script)...)
}

// ok asserts exit 0 and returns stdout.
func (e *env) ok(r result) string {
	e.t.Helper()
	if r.code != 0 {
		e.t.Fatalf("want exit 0, got %s", r)
	}
	return r.stdout
}

// checkClean asserts that no container state, cgroup, mount or process of
// llcr survives the test.
func (e *env) checkClean() {
	t := e.t
	t.Helper()
	// Teardown is synchronous in the runtime, but a detached monitor may
	// still be finishing: give it a moment before judging.
	deadline := time.Now().Add(3 * time.Second)
	var problems []string
	for {
		problems = leftovers(e.root)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(problems) > 0 {
		t.Errorf("left behind:\n  %s", strings.Join(problems, "\n  "))
	}
}

func leftovers(root string) []string {
	var p []string
	if ents, _ := os.ReadDir(root); len(ents) > 0 {
		for _, e := range ents {
			p = append(p, "state "+filepath.Join(root, e.Name()))
		}
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/llcr/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/llcr/*")
	for _, c := range append(cgs, more...) {
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			p = append(p, "cgroup "+c)
		}
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mi), "\n") {
			if strings.Contains(line, rootfs) || strings.Contains(line, root) {
				p = append(p, "mount "+line)
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte("/llcr/")) {
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "cmdline"))
			p = append(p, fmt.Sprintf("process %s (%s)", filepath.Base(filepath.Dir(f)), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return p
}

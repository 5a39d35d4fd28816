package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociBundle makes a bundle in a temp dir: the config.json `container spec`
// writes, pointed at the shared rootfs (read-only, so sharing is safe),
// then edited by edit.
func (e *env) ociBundle(edit func(s *specs.Spec)) string {
	e.t.Helper()
	dir := e.t.TempDir()
	e.ok(e.run("spec", "-b", dir))
	s := e.readConfig(dir)
	s.Root.Path = rootfs
	s.Root.Readonly = true
	if edit != nil {
		edit(s)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

func (e *env) readConfig(dir string) *specs.Spec {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		e.t.Fatalf("decode config.json: %v", err)
	}
	return &s
}

// bindOut adds a writable bind of a fresh host dir at /out, through which
// the container's process leaves evidence that it ran.
func bindOut(t *testing.T, s *specs.Spec) string {
	out := t.TempDir()
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind", "rw"}})
	return out
}

// ociFiles runs bin/container with stdout and stderr on files, not pipes:
// a created container inherits them, and with pipes waiting for the
// command would wait for the container. The files stay readable (paths in
// the result's out and errPath) for the container's later output.
type ociFiles struct {
	result
	out, errPath string
}

func (e *env) runFiles(args ...string) ociFiles {
	e.t.Helper()
	dir := e.t.TempDir()
	out, errp := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
	fo, err := os.Create(out)
	if err != nil {
		e.t.Fatal(err)
	}
	defer fo.Close()
	fe, err := os.Create(errp)
	if err != nil {
		e.t.Fatal(err)
	}
	defer fe.Close()
	c := e.cmd(args...)
	c.Stdout, c.Stderr = fo, fe
	done := make(chan error, 1)
	if err := c.Start(); err != nil {
		e.t.Fatalf("start %v: %v", args, err)
	}
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		c.Process.Kill()
		<-done
		e.t.Fatalf("%v did not finish in a minute", args)
	}
	r := ociFiles{out: out, errPath: errp}
	r.code = c.ProcessState.ExitCode()
	r.stdout, r.stderr = readFile(out), readFile(errp)
	return r
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// create runs `create` of bundle as id (extra flags first) and registers
// the container's removal, which runs before the leftover check.
func (e *env) create(id, bundle string, flags ...string) ociFiles {
	e.t.Helper()
	args := append(append([]string{"create", "-b", bundle}, flags...), id)
	r := e.runFiles(args...)
	e.t.Cleanup(func() { e.run("delete", "-f", id) })
	return r
}

// waitFile polls until path exists and returns its content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	if !eventually(10*time.Second, func() bool { _, err := os.Stat(path); return err == nil }) {
		t.Fatalf("%s did not appear", path)
	}
	// Written by a shell redirect: give the write a moment to land.
	var s string
	eventually(2*time.Second, func() bool { s = readFile(path); return strings.HasSuffix(s, "\n") })
	return s
}

package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/bundle"
	"llcr/runtime/spec"
)

// bundleStart is what `create` and runc's form of `run` have in common.
type bundleStart struct {
	id            string
	bundle        string // absolute
	pidFile       string // absolute, or ""
	consoleSocket string // absolute, or ""
	detached      bool   // the runtime will not stay attached (create, run -d)
}

// load validates everything about the start before anything exists.
func (b *bundleStart) load(g *Globals) (*specs.Spec, error) {
	if err := requireRoot(); err != nil {
		return nil, err
	}
	if err := spec.ValidateID(b.id); err != nil {
		return nil, err
	}
	var err error
	for _, p := range []*string{&b.bundle, &b.pidFile, &b.consoleSocket} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	s, err := bundle.Load(b.bundle)
	if err != nil {
		return nil, err
	}
	debugf("loaded bundle %s for %s", b.bundle, b.id)
	if err := g.systemdCgroupsPath(s); err != nil {
		return nil, err
	}
	// runc's rules: a detached terminal needs someone to hand it to, and a
	// console socket without a terminal is a mistake worth reporting.
	switch {
	case s.Process.Terminal && b.detached && b.consoleSocket == "":
		return nil, errors.New("process.terminal is true: --console-socket is required when the runtime does not stay attached")
	case !s.Process.Terminal && b.consoleSocket != "":
		return nil, errors.New("--console-socket given but process.terminal is false in config.json")
	}
	return s, nil
}

// writePidFile stores pid the way runc does (no newline), atomically:
// whoever watches the file never reads a partial pid.
func writePidFile(path string, pid int) error {
	if path == "" {
		return nil
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write --pid-file %s: %w", path, err)
	}
	return nil
}

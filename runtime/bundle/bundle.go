// Package bundle reads OCI bundles (a directory holding config.json and,
// usually, the rootfs) into the same specs.Spec the seed CLI builds with
// spec.FromOptions, and runs the spec's hooks. Everything a start would
// trip over later is checked here, with the field path in the message, so
// a bad bundle fails `create` before anything exists on the host.
package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigFile is the bundle's configuration, per the runtime spec.
const ConfigFile = "config.json"

// Load reads dir/config.json and validates it. Paths the spec defines as
// relative to the bundle (root.path, bind mount sources) come back
// absolute, so the spec means the same from any working directory.
func Load(dir string) (*specs.Spec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(abs, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("read bundle config: %w", err)
	}
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", ConfigFile, filepath.Join(abs, ConfigFile), err)
	}
	if err := resolve(&s, abs); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	if err := Validate(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return &s, nil
}

// resolve makes the bundle-relative paths absolute.
func resolve(s *specs.Spec, dir string) error {
	if s.Root == nil || s.Root.Path == "" {
		return fmt.Errorf("root.path: missing: the bundle must name its root filesystem")
	}
	if !filepath.IsAbs(s.Root.Path) {
		s.Root.Path = filepath.Join(dir, s.Root.Path)
	}
	for i := range s.Mounts {
		m := &s.Mounts[i]
		if isBind(m) && m.Source != "" && !filepath.IsAbs(m.Source) {
			m.Source = filepath.Join(dir, m.Source)
		}
	}
	return nil
}

func isBind(m *specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

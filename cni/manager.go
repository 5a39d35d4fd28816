// Package cni attaches containers to CNI networks and detaches them, on top
// of libcni: it adds the locking, the result cache location, clear errors
// and the cleanup rules (DEL after a failed ADD, DEL from the cache) that a
// runtime needs and libcni leaves to its caller.
package cni

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

// DefaultCacheDir holds libcni's result cache and llcr's lock files. It is
// separate from libcni's /var/lib/cni so llcr's attachments are never
// garbage-collected by another runtime sharing the host, and vice versa.
const DefaultCacheDir = "/var/lib/llcr/cni"

// Manager runs CNI operations. It is safe for concurrent use: every call
// builds its own libcni config, and cross-process exclusion is by the
// flocks in lock.go.
type Manager struct {
	pluginDirs []string
	cacheDir   string
	// Stderr receives what plugins print on stderr when they succeed (on
	// failure it is part of the error). Nil discards it: plugin chatter
	// must not land on a container's terminal.
	Stderr io.Writer
}

// New returns a Manager that finds plugins in pluginDirs (DefaultPluginDirs
// when nil) and keeps its cache and locks in cacheDir (DefaultCacheDir when
// empty).
func New(pluginDirs []string, cacheDir string) *Manager {
	if pluginDirs == nil {
		pluginDirs = DefaultPluginDirs()
	}
	if cacheDir == "" {
		cacheDir = DefaultCacheDir
	}
	return &Manager{pluginDirs: pluginDirs, cacheDir: cacheDir}
}

// PluginDirs returns the plugin search path.
func (m *Manager) PluginDirs() []string { return append([]string(nil), m.pluginDirs...) }

// CacheDir returns the directory of the result cache and the locks.
func (m *Manager) CacheDir() string { return m.cacheDir }

// DefaultPluginDirs is $CNI_PATH when set (the CNI convention), else the
// cni directory next to the running binary (where `make cni` puts the
// plugins, so a build tree works without installing), then the installed
// location, then where other CNI users keep the reference plugins.
func DefaultPluginDirs() []string {
	if p := os.Getenv("CNI_PATH"); p != "" {
		var dirs []string
		for _, d := range strings.Split(p, ":") {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
		if len(dirs) > 0 {
			return dirs
		}
	}
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "cni"))
	}
	return append(dirs, "/usr/libexec/llcr/cni", "/opt/cni/bin")
}

// config returns a libcni config for one operation, with an exec that
// records which plugin ran last and which failed, so errors can name it.
func (m *Manager) config() (*libcni.CNIConfig, *recorder) {
	stderr := m.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	rec := &recorder{DefaultExec: invoke.DefaultExec{
		RawExec:       &invoke.RawExec{Stderr: stderr},
		PluginDecoder: version.PluginDecoder{},
	}}
	return libcni.NewCNIConfigWithCacheDir(m.pluginDirs, m.cacheDir, rec), rec
}

package cni

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"github.com/containernetworking/cni/pkg/invoke"
)

// recorder wraps libcni's default exec to remember the plugin that ran
// last and the first one that failed. libcni's own errors describe the
// plugin only for some operations (not STATUS, not GC's inner DELs), so
// the Manager builds its error messages from this instead.
type recorder struct {
	invoke.DefaultExec

	mu      sync.Mutex
	last    string
	failed  string
	failErr error
}

func (r *recorder) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	name := pluginName(pluginPath)
	out, err := r.DefaultExec.ExecPlugin(ctx, pluginPath, stdin, environ)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = name
	if err != nil && r.failErr == nil {
		r.failed, r.failErr = name, err
	}
	return out, err
}

// pluginName is the plugin type: the binary's name without directory or
// the extension FindInPath may have added.
func pluginName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// blame returns the plugin to name in an error and the plugin's own error,
// or ok=false when no plugin is to blame (the cache write failed, say).
func (r *recorder) blame(err error) (plugin string, cause error, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failErr != nil {
		return r.failed, r.failErr, true
	}
	// The plugin exited 0 but its output could not be decoded; libcni
	// reports that as `plugin type="x" failed (add): <cause>`.
	if r.last != "" && strings.HasPrefix(err.Error(), "plugin type=") {
		if inner := errors.Unwrap(err); inner != nil {
			return r.last, inner, true
		}
		return r.last, err, true
	}
	return "", nil, false
}

package cni

import (
	"fmt"
	"strings"
)

// PluginError is a CNI plugin's failure, naming the network and plugin so
// the user knows which config entry and which binary to look at.
type PluginError struct {
	Network string
	Plugin  string // the plugin type, which is the binary's name
	Op      string // ADD, DEL, GC or STATUS
	Err     error  // what the plugin reported
}

func (e *PluginError) Error() string {
	if e.Op == "ADD" {
		return fmt.Sprintf("network %q: plugin %s: %v", e.Network, e.Plugin, e.Err)
	}
	return fmt.Sprintf("network %q: plugin %s (%s): %v", e.Network, e.Plugin, e.Op, e.Err)
}

func (e *PluginError) Unwrap() error { return e.Err }

// PluginNotFoundError says a network needs a plugin binary that is not in
// the search path, and how to get one: the commonest setup mistake.
type PluginNotFoundError struct {
	Network string
	Plugin  string
	Dirs    []string
}

func (e *PluginNotFoundError) Error() string {
	return fmt.Sprintf("network %q: plugin %q not found in %s (build it with make cni or set CNI_PATH)",
		e.Network, e.Plugin, strings.Join(e.Dirs, ":"))
}

// wrapOp turns an error from a libcni operation into a PluginError when a
// plugin was at fault, else a plain error naming the network.
func wrapOp(network, op string, rec *recorder, err error) error {
	if err == nil {
		return nil
	}
	if plugin, cause, ok := rec.blame(err); ok {
		return &PluginError{Network: network, Plugin: plugin, Op: op, Err: cause}
	}
	return fmt.Errorf("network %q: %s: %w", network, op, err)
}

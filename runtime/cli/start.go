package cli

import (
	"runtime/debug"

	"llcr/runtime/launch"
)

// startContainer is launch.Start with the garbage collector off: a start
// allocates a few megabytes that all stay live until it returns, so a
// collection in the middle only costs time on the hot path.
func startContainer(o launch.Options) (*launch.Container, error) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	return launch.Start(o)
}

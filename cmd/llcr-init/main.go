// Command llcr-init is a container's first process: the runtime clones it
// into the new namespaces, where it prepares the rootfs and execs the
// user's command. It is a binary of its own, holding only that code, because
// it starts on every container start: a small binary starts faster than the
// whole runtime re-executed.
package main

import (
	"os"

	"llcr/runtime/initproc"
)

func main() {
	os.Exit(initproc.Main())
}

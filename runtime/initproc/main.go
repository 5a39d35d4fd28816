// Package initproc is the container side of a start: the code that runs as
// the first process inside the new namespaces, between clone and the exec of
// the user's command. It prepares the rootfs, pivots into it, drops
// privileges and execs. The parent side is package launch; they speak
// package proto, in the order documented in docs/ARCHITECTURE.md.
//
// Everything here runs on the main OS thread, locked in init: unsharing the
// cgroup namespace affects only the calling thread, and that thread must be
// the one that finally execs.
package initproc

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"llcr/runtime/errs"
	"llcr/runtime/netns"
	"llcr/runtime/proto"
)

// Arg is argv[1] of the re-executed runtime binary when it is a container's init.
const Arg = "__init"

// SyncFd is where the child finds its end of the sync socket (ExtraFiles[0]).
const SyncFd = 3

func init() {
	if len(os.Args) > 1 && os.Args[1] == Arg {
		runtime.LockOSThread()
	}
}

// Main runs the container's init. It only returns on failure, after telling
// the parent why; the caller exits with the returned code.
func Main() int {
	// The fd arrives without close-on-exec (ExtraFiles clears it); the parent
	// learns that the exec happened from this end closing.
	unix.CloseOnExec(SyncFd)
	conn := proto.FromFd(SyncFd)
	err := run(conn)
	ie := &proto.InitError{Code: errs.Code(err), Message: err.Error()}
	if err := conn.Send(proto.Message{Kind: proto.Error, Error: ie}); err != nil {
		fmt.Fprintf(os.Stderr, "container init: %s (and telling the runtime failed: %v)\n", ie.Message, err)
	}
	return 1
}

func run(conn *proto.Conn) error {
	m, fds, err := conn.Expect(proto.Config)
	if err != nil {
		return fmt.Errorf("read start configuration: %w", err)
	}
	c := m.Config
	if c == nil || c.Spec == nil || c.Spec.Process == nil || c.Spec.Root == nil {
		return errors.New("start configuration without spec, process or root")
	}
	fifo := -1
	if c.ExecFifo {
		if len(fds) < 1 {
			return errors.New("exec fifo announced but no fd received")
		}
		fifo, fds = fds[len(fds)-1], fds[:len(fds)-1]
	}
	rootFd := -1
	if c.IdmappedRoot {
		if len(fds) < 1 {
			return errors.New("idmapped rootfs announced but no fd received")
		}
		rootFd = fds[0]
	}
	if TimeOffsetsInChild(c.Spec) {
		if err := setupTimeNS(c.Spec.Linux.TimeOffsets); err != nil {
			return err
		}
	}
	// Files we create (device nodes, mountpoints) get exactly the modes we ask for.
	unix.Umask(0)
	if err := setupUTS(c.Spec); err != nil {
		return err
	}
	if hasNewNamespace(c.Spec, "network") {
		if err := netns.LoopbackUp(); err != nil {
			return err
		}
	}
	r := &rootfs{cfg: c, path: c.Spec.Root.Path, idmapFd: rootFd, fds: fds, conn: conn}
	if err := r.prepare(); err != nil {
		return err
	}
	// Mounts without a cgroupfs did not need to wait: do it now, before
	// anything of the user's runs.
	if err := r.awaitCgroup(); err != nil {
		return err
	}
	if c.RuntimeHooks {
		if err := awaitRuntimeHooks(conn); err != nil {
			return err
		}
	}
	var console *os.File
	if c.Spec.Process.Terminal {
		if console, err = r.setupConsole(conn); err != nil {
			return err
		}
	}
	if err := r.pivot(); err != nil {
		return err
	}
	if err := r.finish(); err != nil {
		return err
	}
	if console != nil {
		if err := attachConsole(console); err != nil {
			return err
		}
	}
	if err := conn.Send(proto.Message{Kind: proto.Ready}); err != nil {
		return err
	}
	var beforeExec func() error
	if fifo >= 0 {
		beforeExec = func() error { return awaitStart(conn, fifo) }
	}
	if err := setPersonality(c.Spec.Linux); err != nil {
		return err
	}
	return execProcess(c.Spec.Process, beforeExec)
}

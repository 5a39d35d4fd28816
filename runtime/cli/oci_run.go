package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"

	"llcr/runtime/errs"
	"llcr/runtime/launch"
	"llcr/runtime/state"
)

// ociRunFlags are runc's `run` flags on top of the seed's (-d is shared).
type ociRunFlags struct {
	ociStartFlags
	Keep bool `help:"runc's form: keep the stopped container's state (delete it later)."`
}

// seedForm refuses the bundle flags with --rootfs: the two forms do not mix.
func (f *ociRunFlags) seedForm() error {
	if f.Bundle != "" || f.ConsoleSocket != "" || f.PidFile != "" || f.Keep || f.PreserveFds > 0 {
		return errors.New("-b, --console-socket, --pid-file, --keep and --preserve-fds belong to runc's form (run [-b BUNDLE] ID), not to --rootfs")
	}
	return nil
}

// runBundle is runc's `run [-b BUNDLE] [-d] ID`: create and start in one,
// in the foreground (the runtime waits, forwards signals and deletes the
// container, unless --keep) or detached to a monitor.
func (r *RunCmd) runBundle(g *Globals) error {
	if len(r.Args) != 1 || r.Args[0] == "--" {
		return errors.New("missing --rootfs (or, runc's form, exactly one container id: run [-b BUNDLE] ID)")
	}
	id := r.Args[0]
	if err := r.seedFlagsUnset(); err != nil {
		return err
	}
	b, err := r.start(id, r.Detach)
	if err != nil {
		return err
	}
	s, err := b.load(g)
	if err != nil {
		return err
	}
	store := g.store()
	dir, err := store.Create(id)
	if err != nil {
		return err
	}
	if r.Detach {
		rep, err := startMonitor(store, id, dir, s, &monitorOptions{Bundle: b.bundle, ConsoleSocket: b.consoleSocket})
		if err != nil {
			return err
		}
		if err := writePidFile(b.pidFile, rep.Pid); err != nil {
			discard(store, id, rep.Pid)
			return err
		}
		poststart(id, b.bundle, s, rep.Pid)
		return nil
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	c, err := startContainer(launch.Options{ID: id, Spec: s, StateDir: dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, CreateRuntime: runtimeHooks(id, b.bundle, s)})
	if err != nil {
		store.Remove(id)
		return err
	}
	err = recordBundle(dir, c, b.bundle, state.Running, false)
	if err == nil {
		err = writePidFile(b.pidFile, c.Pid)
	}
	var term *terminal
	if err == nil && c.Pty != nil {
		if b.consoleSocket != "" {
			err = sendConsole(b.consoleSocket, c.Pty)
			c.Pty.Close()
		} else {
			term = attachTerminal(c.Pty, os.Stdin, os.Stdout)
		}
	}
	if err != nil {
		abandon(c)
		store.Remove(id)
		return err
	}
	poststart(id, b.bundle, s, c.Pid)
	done := make(chan struct{})
	go forwardSignals(c, sigs, term, done)
	code, werr := c.Wait()
	close(done)
	if term != nil {
		term.close()
	}
	if r.Keep {
		if err := recordExit(store, id, code, werr); err != nil && werr == nil {
			werr = err
		}
	} else {
		if err := store.Remove(id); err != nil && werr == nil {
			werr = err
		}
		poststop(id, b.bundle, s)
	}
	if werr != nil {
		return werr
	}
	return errs.Status(code)
}

// seedFlagsUnset refuses the seed's container flags in runc's form: the
// bundle's config.json says all of that, and ignoring a --memory would be
// a silent surprise.
func (r *RunCmd) seedFlagsUnset() error {
	set := []struct {
		name string
		on   bool
	}{
		{"--memory", r.Memory != ""}, {"--cpus", r.CPUs != ""}, {"--pids-limit", r.PidsLimit != 0},
		{"--hostname", r.Hostname != ""}, {"--env", len(r.Env) > 0}, {"--workdir", r.Workdir != ""},
		{"--user", r.User != ""}, {"--volume", len(r.Volume) > 0}, {"--read-only", r.ReadOnly},
		{"--tty", r.TTY}, {"--uid-map", len(r.UIDMap) > 0}, {"--gid-map", len(r.GIDMap) > 0},
		{"--network", len(r.Network) > 0}, {"--ip", r.IP != ""}, {"--mac", r.MAC != ""},
		{"--publish", len(r.Publish) > 0}, {"--dns", len(r.DNS) > 0}, {"--network-config-dir", r.NetConfDir != ""}, {"--name", r.Name != ""},
	}
	for _, f := range set {
		if f.on {
			return fmt.Errorf("%s applies to --rootfs runs: with a bundle, config.json says it", f.name)
		}
	}
	return nil
}

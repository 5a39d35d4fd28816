package cli

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"llcr/runtime/state"
)

// ociStartFlags are the flags runc's create and run share.
type ociStartFlags struct {
	Bundle        string `short:"b" help:"Bundle directory holding config.json (default: the current directory)." type:"path"`
	ConsoleSocket string `name:"console-socket" help:"Unix socket that receives the terminal's master (process.terminal)." type:"path"`
	PidFile       string `name:"pid-file" help:"File to write the container process's pid to." type:"path"`
	NoPivot       bool   `name:"no-pivot" help:"Accepted for runc compatibility; llcr always uses pivot_root."`
	NoNewKeyring  bool   `name:"no-new-keyring" help:"Accepted for runc compatibility; llcr never creates a session keyring."`
	PreserveFds   uint   `name:"preserve-fds" help:"Pass N fds after stdio to the container (not supported yet: only 0)."`
}

func (f *ociStartFlags) start(id string, detached bool) (*bundleStart, error) {
	if f.PreserveFds > 0 {
		return nil, errors.New("--preserve-fds: passing extra fds is not supported yet")
	}
	b := f.Bundle
	if b == "" {
		b = "."
	}
	return &bundleStart{id: id, bundle: b, pidFile: f.PidFile, consoleSocket: f.ConsoleSocket, detached: detached}, nil
}

// CreateCmd is runc's `create`: the container is made up to the exec of
// its process, which waits for `start`.
type CreateCmd struct {
	ociStartFlags
	ID string `arg:"" help:"Container id."`
}

func (c *CreateCmd) Run(g *Globals) error {
	b, err := c.start(c.ID, true)
	if err != nil {
		return err
	}
	s, err := b.load(g)
	if err != nil {
		return err
	}
	store := g.store()
	dir, err := store.Create(c.ID)
	if err != nil {
		return err
	}
	rep, err := startMonitor(store, c.ID, dir, s, &monitorOptions{Bundle: b.bundle, WaitStart: true, ConsoleSocket: b.consoleSocket})
	if err != nil {
		return err
	}
	if err := writePidFile(b.pidFile, rep.Pid); err != nil {
		// A caller that cannot learn the pid cannot manage the container.
		discard(store, c.ID, rep.Pid)
		return err
	}
	debugf("created %s: pid %d", c.ID, rep.Pid)
	return nil
}

// discard undoes a start that succeeded but cannot be handed over: the
// monitor reaps the killed container and tears it down, then the state
// directory goes.
func discard(store state.Store, id string, pid int) {
	unix.Kill(pid, syscall.SIGKILL)
	if st, err := store.Load(id); err == nil {
		waitGone(st.Monitor, st.MonitorStart, 5*time.Second)
	}
	store.Remove(id)
}

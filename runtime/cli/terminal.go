package cli

import (
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// terminal connects the runtime's stdio to the container's pty master: raw
// mode on our terminal (so keys like ^C reach the container's line
// discipline), the window size kept in step, and the old mode restored on
// exit.
type terminal struct {
	master *os.File
	in     *os.File
	saved  *term.State
	out    sync.WaitGroup
}

func attachTerminal(master, in, out *os.File) *terminal {
	t := &terminal{master: master, in: in}
	if term.IsTerminal(int(in.Fd())) {
		if st, err := term.MakeRaw(int(in.Fd())); err == nil {
			t.saved = st
		}
		t.resize()
	}
	go io.Copy(master, in)
	t.out.Add(1)
	go func() {
		defer t.out.Done()
		// Ends with EIO once every slave fd in the container is closed.
		io.Copy(out, master)
	}()
	return t
}

func (t *terminal) resize() {
	ws, err := unix.IoctlGetWinsize(int(t.in.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
}

// close drains what the container wrote last, then restores our terminal.
func (t *terminal) close() {
	done := make(chan struct{})
	go func() { t.out.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	t.master.Close()
	if t.saved != nil {
		term.Restore(int(t.in.Fd()), t.saved)
	}
}

package launch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"llcr/runtime/state"
)

// ExecFifo is the fifo in the state directory that holds a created
// container's init before its exec (see proto.Created): `create` makes it,
// the init blocks opening it for writing, `start` opens it for reading.
const ExecFifo = "exec.fifo"

// makeFifo creates the exec fifo and returns an O_PATH handle for the init.
// Mode 0622 lets the init open it after dropping to the container's user.
func (c *Container) makeFifo(dir string) (int, error) {
	p := filepath.Join(dir, ExecFifo)
	old := unix.Umask(0)
	err := unix.Mkfifo(p, 0o622)
	unix.Umask(old)
	if err != nil {
		return -1, fmt.Errorf("create exec fifo %s: %w", p, err)
	}
	c.undo.push(func() error {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove exec fifo: %w", err)
		}
		return nil
	})
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open exec fifo %s: %w", p, err)
	}
	return fd, nil
}

// Release lets a created container's init exec: it opens the exec fifo for
// reading (which unblocks the init) and reads the init's byte. The open
// blocks while nobody writes, so it runs aside while the init's liveness is
// polled: an init that died leaves no writer and would block us forever.
// The fifo is removed on success, so a second start finds nothing to
// release.
func Release(dir string, pid int, pidStart uint64) error {
	p := filepath.Join(dir, ExecFifo)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(p, os.O_RDONLY, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		n, err := f.Read(make([]byte, 1))
		done <- result{n, err}
	}()
	died := errors.New("the container's init exited before it could be started")
	finish := func(r result) error {
		if r.err != nil && !errors.Is(r.err, os.ErrNotExist) {
			return fmt.Errorf("open exec fifo: %w", r.err)
		}
		if r.err != nil || r.n != 1 {
			return died
		}
		os.Remove(p)
		return nil
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			return finish(r)
		case <-tick.C:
			if state.Alive(pid, pidStart) {
				continue
			}
			// Gone may also mean started and already exited: the read
			// result, if there is one, says which.
			select {
			case r := <-done:
				return finish(r)
			case <-time.After(200 * time.Millisecond):
				return died
			}
		}
	}
}

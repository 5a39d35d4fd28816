package cli

import (
	"fmt"
	"net"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/errs"
	"llcr/runtime/launch"
	"llcr/runtime/state"
)

// monitorOptions are what `create` and `run -d` of a bundle add to the
// detached monitor (the seed's -d passes none).
type monitorOptions struct {
	// Bundle is the bundle directory, recorded in the state; set for every
	// OCI start. The container then gets the monitor's stdio, inherited
	// from the command, instead of container.log.
	Bundle string `json:"bundle"`
	// WaitStart (`create`): hold the container at the exec fifo.
	WaitStart bool `json:"waitStart,omitempty"`
	// ConsoleSocket receives the terminal's master (process.terminal).
	ConsoleSocket string `json:"consoleSocket,omitempty"`
}

// monitorBundle is the monitor of an OCI start: the container runs with the
// caller's stdio, the state says created (or running for `run -d`), the
// pty master goes to the console socket, then the monitor waits as for -d.
func monitorBundle(store state.Store, id string, s *specs.Spec, o *monitorOptions, send func(monitorReport)) error {
	dir := store.Dir(id)
	fail := func(err error) error {
		send(monitorReport{Code: errs.Code(err), Error: err.Error()})
		return err
	}
	c, err := startContainer(launch.Options{ID: id, Spec: s, StateDir: dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		WaitStart: o.WaitStart, CreateRuntime: runtimeHooks(id, o.Bundle, s)})
	if err != nil {
		return fail(err)
	}
	status := state.Running
	if o.WaitStart {
		status = state.Created
	}
	if err := recordBundle(dir, c, o.Bundle, status, true); err != nil {
		abandon(c)
		return fail(err)
	}
	// The container holds the caller's pipes now; were we to keep them
	// too, the caller would not see EOF when the container exits.
	releaseStdio()
	if c.Pty != nil {
		err := sendConsole(o.ConsoleSocket, c.Pty)
		c.Pty.Close()
		if err != nil {
			abandon(c)
			return fail(err)
		}
	}
	send(monitorReport{Pid: c.Pid})
	code, werr := c.Wait()
	return recordExit(store, id, code, werr)
}

// recordBundle writes the state of an OCI container: the bundle, its
// annotations and the lifecycle status.
func recordBundle(dir string, c *launch.Container, bundle string, status specs.ContainerState, detached bool) error {
	st, err := startState(dir, c, detached)
	if err != nil {
		return err
	}
	st.Status = status
	st.Bundle = bundle
	st.Annotations = c.Spec.Annotations
	return state.Write(dir, st)
}

func releaseStdio() {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer null.Close()
	for fd := 0; fd < 3; fd++ {
		unix.Dup3(int(null.Fd()), fd, 0)
	}
}

// sendConsole hands the terminal's master to whoever listens on the
// console socket, as runc does: one message whose payload is the file's
// name and whose SCM_RIGHTS carry the fd (containerd and conmon read it so).
func sendConsole(path string, master *os.File) error {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("connect to console socket %s: %w", path, err)
	}
	defer conn.Close()
	name := []byte("/dev/ptmx")
	if _, _, err := conn.WriteMsgUnix(name, unix.UnixRights(int(master.Fd())), nil); err != nil {
		return fmt.Errorf("send the terminal to console socket %s: %w", path, err)
	}
	return nil
}

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/errs"
	"llcr/runtime/launch"
	"llcr/runtime/state"
)

// monitorArg starts the runtime as the monitor of a detached container: a
// setsid'd process that is the container's parent, writes its output to
// container.log, reaps it and tears it down.
const monitorArg = "__monitor"

const (
	configFile = "config.json"
	logFile    = "container.log"
)

// monitorReport is what the monitor tells the starting runtime, once.
type monitorReport struct {
	Pid   int    `json:"pid,omitempty"`
	Code  int    `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// startDetached hands the container to a monitor and waits only for the
// start's outcome, so a bad start still fails this command with its error.
func startDetached(store state.Store, id, dir string, s *specs.Spec) error {
	if _, err := startMonitor(store, id, dir, s, nil); err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

// startMonitor starts the monitor (with the OCI commands' options, nil for
// the seed's -d) and returns its report of a successful start; on failure
// the state directory is gone.
func startMonitor(store state.Store, id, dir string, s *specs.Spec, opts *monitorOptions) (monitorReport, error) {
	rep, err := spawnMonitor(store, id, dir, s, opts)
	if err != nil {
		store.Remove(id)
	}
	return rep, err
}

func spawnMonitor(store state.Store, id, dir string, s *specs.Spec, opts *monitorOptions) (monitorReport, error) {
	b, err := json.Marshal(s)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, configFile), b, 0o600)
	}
	var none monitorReport
	if err != nil {
		return none, fmt.Errorf("write spec of %s: %w", id, err)
	}
	self, err := os.Executable()
	if err != nil {
		return none, fmt.Errorf("find the runtime binary: %w", err)
	}
	args := []string{monitorArg, store.Root, id}
	if opts != nil {
		b, err := json.Marshal(opts)
		if err != nil {
			return none, fmt.Errorf("encode monitor options of %s: %w", id, err)
		}
		args = append(args, string(b))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return none, fmt.Errorf("create monitor pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(self, args...)
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	if opts != nil && opts.Bundle != "" {
		// The OCI commands' container gets exactly the caller's stdio; the
		// monitor lets go of its copies once the container has them.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return none, fmt.Errorf("start monitor of %s: %w", id, err)
	}
	w.Close()
	var rep monitorReport
	derr := json.NewDecoder(r).Decode(&rep)
	if derr != nil || rep.Error != "" {
		// The monitor removed what it made; it exits right after reporting.
		cmd.Wait()
		if derr != nil {
			return none, fmt.Errorf("monitor of %s died before reporting: %w", id, derr)
		}
		return none, errs.WithCode(rep.Code, errors.New(rep.Error))
	}
	// The monitor lives on as the container's parent; we do not wait for it.
	cmd.Process.Release()
	return rep, nil
}

// runMonitor is the monitor's body: args are the state root and the id.
func runMonitor(args []string) error {
	if len(args) != 2 && len(args) != 3 {
		return errors.New("usage: __monitor ROOT ID [OPTIONS]")
	}
	var opts monitorOptions
	if len(args) == 3 {
		if err := json.Unmarshal([]byte(args[2]), &opts); err != nil {
			return fmt.Errorf("decode monitor options: %w", err)
		}
	}
	store := state.Store{Root: args[0]}
	id := args[1]
	dir := store.Dir(id)
	report := os.NewFile(3, "report")
	send := func(rep monitorReport) {
		json.NewEncoder(report).Encode(rep)
		report.Close()
	}
	// The terminal this was started from may close; the container must not
	// notice. Caught and dropped rather than ignored: SIG_IGN survives exec,
	// so the container's process would start with SIGHUP and SIGINT ignored
	// (and a shell could not even trap them), while caught signals reset to
	// the default at exec.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	s, err := readSpec(dir)
	if err != nil {
		send(monitorReport{Code: errs.Runtime, Error: err.Error()})
		return err
	}
	if opts.Bundle != "" {
		return monitorBundle(store, id, s, &opts, send)
	}
	log, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		err = fmt.Errorf("open log of %s: %w", id, err)
		send(monitorReport{Code: errs.Runtime, Error: err.Error()})
		return err
	}
	defer log.Close()
	c, err := startContainer(launch.Options{ID: id, Spec: s, StateDir: dir, Stdout: log, Stderr: log})
	if err != nil {
		send(monitorReport{Code: errs.Code(err), Error: err.Error()})
		return err
	}
	if err := recordStart(dir, c, true); err != nil {
		abandon(c)
		send(monitorReport{Code: errs.Runtime, Error: err.Error()})
		return err
	}
	copied := make(chan struct{})
	if c.Pty != nil {
		go func() { io.Copy(log, c.Pty); close(copied) }()
	} else {
		close(copied)
	}
	send(monitorReport{Pid: c.Pid})
	code, werr := c.Wait()
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	return recordExit(store, id, code, werr)
}

// abandon kills and tears down a container whose start cannot be completed.
func abandon(c *launch.Container) {
	c.Signal(syscall.SIGKILL)
	c.Wait()
}

func readSpec(dir string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, configFile), err)
	}
	return &s, nil
}

// recordExit marks the container stopped with its exit status; `delete`
// removes the directory later, as docker keeps a stopped container.
func recordExit(store state.Store, id string, code int, werr error) error {
	unlock, err := store.Lock(id)
	if err != nil {
		// Deleted (delete -f) while we waited: nothing left to record.
		return nil
	}
	defer unlock()
	st, err := store.Load(id)
	if err != nil {
		return nil
	}
	st.Status = state.Stopped
	st.ExitCode = &code
	st.Monitor = 0
	st.Finished = nowUTC()
	if werr != nil {
		st.ExitMessage = werr.Error()
	}
	return state.Write(store.Dir(id), st)
}

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

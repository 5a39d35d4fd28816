package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"llcr/runtime/errs"
	"llcr/runtime/launch"
	"llcr/runtime/spec"
	"llcr/runtime/state"
)

// RunCmd is `container [run] [flags] -- CMD [ARG...]`.
type RunCmd struct {
	Rootfs      string   `help:"Directory holding the container's root filesystem (without it: runc's form, run [-b BUNDLE] ID)."`
	Memory      string   `help:"Memory limit (512M, 1G, 1.5G or bytes); swap is capped to the same value."`
	CPUs        string   `name:"cpus" help:"CPU limit in cores, fractional (0.5, 1.5)."`
	PidsLimit   int64    `name:"pids-limit" help:"Maximum number of processes."`
	Hostname    string   `help:"Hostname (default: the container id)."`
	Env         []string `short:"e" sep:"none" help:"Set an environment variable K=V (K alone: take the host's value)."`
	Workdir     string   `short:"w" help:"Working directory inside the container."`
	User        string   `short:"u" help:"User as UID[:GID] or NAME[:GROUP] from the rootfs's /etc/passwd."`
	Volume      []string `short:"v" sep:"none" help:"Bind mount HOST:CTR[:ro]."`
	ReadOnly    bool     `name:"read-only" help:"Mount the rootfs read-only."`
	TTY         bool     `short:"t" help:"Allocate a pseudo-terminal."`
	Interactive bool     `short:"i" help:"Keep stdin attached (the foreground default; with -d stdin is /dev/null)."`
	UIDMap      []string `name:"uid-map" sep:"none" help:"User namespace uid mapping C:H:N (repeatable)."`
	GIDMap      []string `name:"gid-map" sep:"none" help:"User namespace gid mapping C:H:N (default: the uid maps)."`
	Network     []string `name:"network" sep:"none" help:"Network: a CNI network name (repeatable: eth0, eth1, ...), none (only lo, the default) or host."`
	IP          string   `name:"ip" help:"Static IPv4/IPv6 address on the first network."`
	MAC         string   `name:"mac" help:"MAC address of the first network's interface."`
	Publish     []string `short:"p" sep:"none" help:"Publish a port [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp] (repeatable)."`
	DNS         []string `name:"dns" sep:"none" help:"Nameserver for the container's resolv.conf (repeatable)."`
	NetConfDir  string   `name:"network-config-dir" help:"Directory of CNI network configs (default: /etc/llcr/net.d, then /etc/cni/net.d)."`
	Name        string   `help:"Container id (default: generated)."`
	Detach      bool     `short:"d" help:"Run in the background; see 'container logs'."`
	ociRunFlags
	Args []string `arg:"" passthrough:"" help:"Command and arguments (runc's form: the container id)."`
}

// forwarded are the signals a foreground runtime passes on to the container.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

func (r *RunCmd) Run(g *Globals) error {
	if err := requireRoot(); err != nil {
		return err
	}
	if r.Rootfs == "" {
		return r.runBundle(g)
	}
	if err := r.ociRunFlags.seedForm(); err != nil {
		return err
	}
	id := r.Name
	if id == "" {
		id = spec.GenerateID()
	}
	if err := spec.ValidateID(id); err != nil {
		return err
	}
	args := r.Args
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	s, err := spec.FromOptions(spec.Options{
		ID: id, Rootfs: r.Rootfs, Args: args, Memory: r.Memory, CPUs: r.CPUs, PidsLimit: r.PidsLimit,
		Hostname: r.Hostname, Env: r.Env, Workdir: r.Workdir, User: r.User, Volumes: r.Volume,
		ReadOnly: r.ReadOnly, TTY: r.TTY, UIDMaps: r.UIDMap, GIDMaps: r.GIDMap,
	})
	if err != nil {
		return err
	}
	if err := r.applyNetwork(s); err != nil {
		return err
	}
	store := g.store()
	dir, err := store.Create(id)
	if err != nil {
		return err
	}
	if r.Detach {
		return startDetached(store, id, dir, s)
	}
	// Signals are caught before the container exists, so that none arriving
	// during the start kills the runtime and orphans a half-made container.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	c, err := startContainer(launch.Options{ID: id, Spec: s, StateDir: dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		store.Remove(id)
		return err
	}
	if err := recordStart(dir, c, false); err != nil {
		c.Signal(syscall.SIGKILL)
		c.Wait()
		store.Remove(id)
		return err
	}
	var term *terminal
	if c.Pty != nil {
		term = attachTerminal(c.Pty, os.Stdin, os.Stdout)
	}
	done := make(chan struct{})
	go forwardSignals(c, sigs, term, done)
	code, werr := c.Wait()
	close(done)
	if term != nil {
		term.close()
	}
	if err := store.Remove(id); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return werr
	}
	return errs.Status(code)
}

func forwardSignals(c *launch.Container, sigs chan os.Signal, term *terminal, done chan struct{}) {
	for {
		select {
		case <-done:
			return
		case sig := <-sigs:
			if sig == syscall.SIGWINCH && term != nil {
				term.resize()
				continue
			}
			c.Signal(sig.(syscall.Signal))
		}
	}
}

func recordStart(dir string, c *launch.Container, detached bool) error {
	st, err := startState(dir, c, detached)
	if err != nil {
		return err
	}
	return state.Write(dir, st)
}

// startState is the state.json of a container that just started.
func startState(dir string, c *launch.Container, detached bool) (*state.State, error) {
	st := &state.State{
		Created:  nowUTC(),
		Rootfs:   c.Spec.Root.Path,
		Command:  c.Spec.Process.Args,
		Cgroup:   c.Cgroup.Paths(),
		Detached: detached,
		Monitor:  os.Getpid(),
	}
	st.Version = c.Spec.Version
	st.ID = c.ID
	st.Status = state.Running
	st.Pid = c.Pid
	st.Bundle = dir
	st.PidStart, _ = state.StartTime(c.Pid)
	st.MonitorStart, _ = state.StartTime(os.Getpid())
	if c.Net != nil {
		b, err := json.Marshal(c.Net.Attachments)
		if err != nil {
			return nil, fmt.Errorf("encode networks of %s: %w", c.ID, err)
		}
		st.Networks = b
	}
	return st, nil
}

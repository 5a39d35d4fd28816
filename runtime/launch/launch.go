// Package launch is the parent side of a container start: it prepares the
// host side (state files, cgroup), clones the init into new namespaces,
// speaks package proto with it until it execs, and later reaps it and tears
// the host side down. The container side is package initproc.
package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/cgroup"
	"llcr/runtime/errs"
	"llcr/runtime/initproc"
	"llcr/runtime/network"
	"llcr/runtime/proto"
)

// Options say what to start and where its stdio goes.
type Options struct {
	ID       string
	Spec     *specs.Spec
	StateDir string
	// Stdin, Stdout, Stderr are the process's stdio when it has no terminal.
	Stdin, Stdout, Stderr *os.File
	// WaitStart (`create`): Start returns once the init waits on the exec
	// fifo in StateDir, right before the exec; Release lets it go on.
	WaitStart bool
	// CreateRuntime runs the prestart and createRuntime hooks, with the
	// mounts made and before pivot_root; an error aborts the start.
	CreateRuntime func(pid int) error
}

// Container is a started container process and the host resources it holds.
type Container struct {
	ID   string
	Spec *specs.Spec
	Pid  int
	// Pty is the terminal master when Spec.Process.Terminal is set.
	Pty    *os.File
	Cgroup *cgroup.Manager
	// Net is the container's CNI network, nil without --network.
	Net           *network.Setup
	cmd           *exec.Cmd
	undo          undoStack
	createRuntime func(pid int) error
}

// Start creates the container and runs its process up to the exec of the
// user's command. On error everything it set up is undone.
func Start(o Options) (_ *Container, err error) {
	s := o.Spec
	if s == nil || s.Process == nil || s.Root == nil {
		return nil, errors.New("spec needs process and root")
	}
	c := &Container{ID: o.ID, Spec: s}
	defer func() {
		if err != nil {
			c.undo.run()
			if c.Pty != nil {
				c.Pty.Close()
			}
		}
	}()
	consoleSize(s, o.Stdin)
	cg, err := c.newCgroup()
	if err != nil {
		return nil, err
	}
	c.Cgroup = cg
	// Network first: the namespace is pinned and configured before the
	// process exists, so nothing ever sees a half-made network.
	if err := c.setupNetwork(o.StateDir); err != nil {
		return nil, err
	}
	// On pure v2 the child is born in its cgroup, so the cgroup comes first.
	// Elsewhere it joins after the clone, and the host-side work below runs
	// while the child's runtime is still starting: it is off the critical
	// path.
	if cgroup.Mode() == "v2" {
		if err := c.createCgroup(); err != nil {
			return nil, err
		}
	}
	parent, child, err := proto.Pair()
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	cmd, err := c.command(o, child)
	child.Close()
	if err != nil {
		return nil, err
	}
	c.cmd = cmd
	c.Pid = cmd.Process.Pid
	c.undo.push(func() error {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return c.Cgroup.KillAll()
	})
	// The child prepares its mounts while we deal with the cgroup; it waits
	// for CgroupReady only where it needs the cgroup.
	if err := etcFiles(s, o.StateDir, c.Net); err != nil {
		return nil, err
	}
	var fifo int = -1
	if o.WaitStart {
		if fifo, err = c.makeFifo(o.StateDir); err != nil {
			return nil, err
		}
		defer unix.Close(fifo)
	}
	c.createRuntime = o.CreateRuntime
	if err := c.sendConfig(parent, fifo); err != nil {
		return nil, err
	}
	if !c.bornInCgroup() {
		if err := c.createCgroup(); err != nil {
			return nil, err
		}
		if err := c.Cgroup.Join(c.Pid); err != nil {
			return nil, fmt.Errorf("move container init %d into its cgroup: %w", c.Pid, err)
		}
	}
	if err := parent.Send(proto.Message{Kind: proto.CgroupReady}); err != nil {
		// The child may have failed already: its error says why.
		if herr := c.handshake(parent); herr != nil {
			return nil, herr
		}
		return nil, err
	}
	if err := c.handshake(parent); err != nil {
		return nil, err
	}
	if c.Net != nil {
		if err := c.Net.SetPid(c.Pid); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Container) newCgroup() (*cgroup.Manager, error) {
	var (
		path string
		res  *specs.LinuxResources
	)
	if l := c.Spec.Linux; l != nil {
		path, res = l.CgroupsPath, l.Resources
	}
	return cgroup.New(c.ID, path, res)
}

func (c *Container) createCgroup() error {
	if err := c.Cgroup.Create(); err != nil {
		return err
	}
	c.undo.push(c.Cgroup.Destroy)
	return nil
}

func (c *Container) bornInCgroup() bool {
	return c.cmd.SysProcAttr.UseCgroupFD
}

// command clones the init. Namespaces come from clone flags in one go; the
// cgroup namespace is left to the child, after it is in its cgroup.
func (c *Container) command(o Options, child *proto.Conn) (*exec.Cmd, error) {
	self, err := sealedInit()
	if err != nil {
		return nil, err
	}
	flags, err := cloneFlags(c.Spec)
	if err != nil {
		return nil, err
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags}
	if flags&unix.CLONE_NEWUSER != 0 {
		attr.UidMappings = idMaps(c.Spec.Linux.UIDMappings)
		attr.GidMappings = idMaps(c.Spec.Linux.GIDMappings)
		attr.GidMappingsEnableSetgroups = true
		// The clone keeps the host's uid 0, which the maps usually leave
		// unmapped: become the namespace's root before exec, or init would
		// run without capabilities.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if cgroup.Mode() == "v2" {
		if fd, ok, err := c.Cgroup.Fd(); err != nil {
			return nil, err
		} else if ok {
			defer unix.Close(fd)
			attr.UseCgroupFD, attr.CgroupFD = true, fd
		}
	}
	cmd := &exec.Cmd{
		Path:        self,
		Args:        []string{"llcr-init", initproc.Arg},
		Env:         []string{"GOGC=off", "GOMAXPROCS=1"},
		Stdin:       o.Stdin,
		Stdout:      o.Stdout,
		Stderr:      o.Stderr,
		ExtraFiles:  []*os.File{child.File("sync")},
		SysProcAttr: attr,
	}
	if cmd.Stdin == nil {
		cmd.Stdin = devNull()
	}
	err = startIn(cmd, nsPath(c.Spec, specs.NetworkNamespace))
	// Our copy of the child's end must go, or its exec would not show as EOF.
	cmd.ExtraFiles[0].Close()
	if err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	return cmd, nil
}

func devNull() *os.File {
	f, _ := os.Open(os.DevNull)
	return f
}

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  0, // unshared by the child
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

func cloneFlags(s *specs.Spec) (uintptr, error) {
	if s.Linux == nil {
		return 0, nil
	}
	var flags uintptr
	for _, ns := range s.Linux.Namespaces {
		f, ok := nsFlags[ns.Type]
		if !ok {
			return 0, fmt.Errorf("linux.namespaces: unknown type %q", ns.Type)
		}
		if ns.Path != "" && ns.Type == specs.NetworkNamespace {
			// Inherited at clone: see startIn.
			continue
		}
		if ns.Path != "" {
			return 0, fmt.Errorf("linux.namespaces: joining the %s namespace at %s is not supported yet", ns.Type, ns.Path)
		}
		if ns.Type == specs.TimeNamespace && initproc.TimeOffsetsInChild(s) {
			continue
		}
		flags |= f
	}
	return flags, nil
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(m))
	for _, x := range m {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)})
	}
	return out
}

func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

func nsPath(s *specs.Spec, t specs.LinuxNamespaceType) string {
	if s.Linux == nil {
		return ""
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path
		}
	}
	return ""
}

func (c *Container) sendConfig(conn *proto.Conn, fifo int) error {
	cfg := &proto.InitConfig{
		ID:           c.ID,
		Spec:         c.Spec,
		CgroupNS:     hasNS(c.Spec, specs.CgroupNamespace),
		UserNS:       hasNS(c.Spec, specs.UserNamespace),
		CgroupPaths:  c.Cgroup.Paths(),
		RuntimeHooks: c.createRuntime != nil,
		ExecFifo:     fifo >= 0,
	}
	var fds []int
	if cfg.UserNS {
		fd, err := idmappedRoot(c.Spec.Root.Path, c.Pid)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		cfg.IdmappedRoot = true
		fds = append(fds, fd)
		// The container's root may be refused the bind sources' paths (the
		// state dir's /etc files, volumes below a 0700 directory): clone
		// them here, where the host's root can reach them.
		binds, err := cloneBinds(c.Spec.Mounts)
		defer closeAll(binds)
		if err != nil {
			return err
		}
		for i, fd := range binds {
			if cfg.BindFds == nil {
				cfg.BindFds = map[int]int{}
			}
			cfg.BindFds[i] = len(fds)
			fds = append(fds, fd)
		}
	}
	if fifo >= 0 {
		// Last, so the bind indices above stay as they are.
		fds = append(fds, fifo)
	}
	if len(fds) > maxFds {
		return fmt.Errorf("%d bind mounts in a user namespace: at most %d are supported", len(fds)-1, maxFds-1)
	}
	return conn.Send(proto.Message{Kind: proto.Config, Config: cfg}, fds...)
}

// handshake follows the child until it execs (its end of the socket closes
// with the exec) or fails.
func (c *Container) handshake(conn *proto.Conn) error {
	ready := false
	for {
		m, fds, err := conn.Recv()
		if proto.IsEOF(err) {
			if !ready {
				return c.initDied()
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("talk to container init: %w", err)
		}
		switch m.Kind {
		case proto.Pty:
			if len(fds) != 1 {
				return fmt.Errorf("protocol: pty message with %d fds", len(fds))
			}
			// Not on the undo stack, which Wait runs too: closing the master
			// there lost the container's last output before the caller
			// had copied it (`-t -- echo hi` printed nothing). Start
			// closes it itself on failure.
			c.Pty = os.NewFile(uintptr(fds[0]), "pty-master")
		case proto.RuntimeHooks:
			if c.createRuntime == nil {
				return errors.New("protocol: container init stopped for hooks nobody asked for")
			}
			if err := c.createRuntime(c.Pid); err != nil {
				return err
			}
			if err := conn.Send(proto.Message{Kind: proto.HooksDone}); err != nil {
				return err
			}
		case proto.Ready:
			ready = true
		case proto.Created:
			if !ready {
				return errors.New("protocol: created before ready")
			}
			return nil
		case proto.Error:
			for _, fd := range fds {
				unix.Close(fd)
			}
			if m.Error == nil {
				return errors.New("container init failed without saying why")
			}
			return errs.WithCode(m.Error.Code, errors.New(m.Error.Message))
		default:
			return fmt.Errorf("protocol: unexpected %s message from container init", m.Kind)
		}
	}
}

func (c *Container) initDied() error {
	err := c.cmd.Wait()
	return fmt.Errorf("container init exited before it was ready: %v", err)
}

const oomText = "out of memory"

// IsOOMMessage reports whether an exit message recorded by Wait is an OOM kill.
func IsOOMMessage(msg string) bool { return strings.Contains(msg, "was killed: "+oomText) }

// Signal sends sig to the container's process.
func (c *Container) Signal(sig syscall.Signal) error {
	return unix.Kill(c.Pid, sig)
}

// Wait reaps the process and removes its cgroup. It returns the exit code
// docker would (N, or 128+S for a death by signal S) and, for an OOM kill,
// an error saying so.
func (c *Container) Wait() (int, error) {
	c.cmd.Wait()
	ws, _ := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	code := ws.ExitStatus()
	var reason error
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
		if ws.Signal() == syscall.SIGKILL {
			if oom, _ := c.Cgroup.OOMKilled(); oom {
				reason = fmt.Errorf("container %s was killed: %s (limit %s)", c.ID, oomText, formatSize(c.Cgroup.MemoryLimit()))
			}
		}
	}
	// The undo steps are idempotent: killing and waiting for the reaped init
	// is a no-op, and the cgroup kill catches anything that escaped its pid
	// namespace's end.
	if err := c.undo.run(); err != nil && reason == nil {
		reason = err
	}
	if reason != nil {
		return code, errs.WithCode(code, reason)
	}
	return code, nil
}

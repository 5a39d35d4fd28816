// Package cli is the command line of bin/container: kong commands that turn
// flags into a spec (package spec) and drive packages launch and state.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"

	"llcr/runtime/errs"
	"llcr/runtime/initproc"
	"llcr/runtime/state"
)

// Globals are the flags every command takes.
type Globals struct {
	Root string `default:"/run/llcr" help:"Directory for container state." type:"path"`

	// runc's global flags (containerd and podman pass them).
	Log           string           `help:"Write the runtime's messages to this file (default: stderr)." type:"path"`
	LogFormat     string           `name:"log-format" enum:"text,json" default:"text" help:"Format of --log: text or json (lines of level, msg, time)."`
	Debug         bool             `help:"Log debug messages."`
	SystemdCgroup bool             `name:"systemd-cgroup" help:"Place the container in a systemd scope (linux.cgroupsPath slice:prefix:name)."`
	Version       kong.VersionFlag `help:"Print the runtime and runtime-spec versions."`
}

func (g *Globals) store() state.Store { return state.Store{Root: g.Root} }

type app struct {
	Globals

	Run    RunCmd    `cmd:"" default:"withargs" help:"Run a command in a new container (the default command)."`
	List   ListCmd   `cmd:"" aliases:"ls" help:"List containers."`
	State  StateCmd  `cmd:"" help:"Print a container's state as JSON."`
	Kill   KillCmd   `cmd:"" help:"Send a signal to a container's process."`
	Delete DeleteCmd `cmd:"" aliases:"rm" help:"Delete a stopped container (-f: kill it first)."`
	Logs   LogsCmd   `cmd:"" help:"Print the output of a detached container."`

	// runc's lifecycle over OCI bundles.
	Create   CreateCmd   `cmd:"" help:"Create a container from an OCI bundle; its process waits for 'start'."`
	Start    StartCmd    `cmd:"" help:"Start the process of a created container."`
	Spec     SpecCmd     `cmd:"" help:"Write a starting config.json for an OCI bundle."`
	Features FeaturesCmd `cmd:"" help:"Print the runtime-spec features this runtime implements, as JSON."`
	Pause    PauseCmd    `cmd:"" help:"Freeze every process of a container."`
	Resume   ResumeCmd   `cmd:"" help:"Thaw a paused container."`
	Ps       PsCmd       `cmd:"" help:"List a container's processes (table: the host's ps -ef; json: pids)."`
	Events   EventsCmd   `cmd:"" help:"Print a container's stats (--stats once, else every --interval) and OOM events as JSON lines."`
	Update   UpdateCmd   `cmd:"" help:"Change a live container's cgroup limits (-r resources.json or flags)."`

	// Networking.
	Inspect InspectCmd `cmd:"" help:"Print containers' state and networks as JSON."`
	Network NetworkCmd `cmd:"" help:"Manage CNI networks: ls, create, rm, inspect."`
	GC      GCCmd      `cmd:"" name:"gc" help:"Clean up what crashed runtimes left: orphaned containers, CNI attachments."`
}

// exitRequest is how kong's help and version output end the parse without
// calling os.Exit outside main.
type exitRequest struct{ code int }

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) (code int) {
	if len(args) > 0 {
		switch args[0] {
		case initproc.Arg:
			return initproc.Main()
		case monitorArg:
			return reportErr(stderr, runMonitor(args[1:]))
		}
	}
	var cli app
	parser, err := kong.New(&cli,
		kong.Name("container"),
		kong.Description("llcr: a network-first container runtime."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exitRequest{c}) }),
		kong.UsageOnError(),
		kong.Vars{"version": versionText()},
	)
	if err != nil {
		fmt.Fprintf(stderr, "container: %v\n", err)
		return errs.Runtime
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = e.code
		}
	}()
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "container: %v\n", err)
		return errs.Runtime
	}
	if err := cli.Globals.setupLog(stderr); err != nil {
		return reportErr(stderr, err)
	}
	return reportErr(stderr, runCommand(ctx, &cli))
}

func reportErr(stderr io.Writer, err error) int {
	if err != nil && !errs.Silent(err) && logError(err) {
		fmt.Fprintf(stderr, "container: %v\n", err)
	}
	return errs.Code(err)
}

func requireRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("container must run as root (it creates namespaces, cgroups and mounts): run it with sudo")
	}
	return nil
}

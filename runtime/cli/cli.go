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
	return reportErr(stderr, ctx.Run(&cli.Globals))
}

func reportErr(stderr io.Writer, err error) int {
	if err != nil && !errs.Silent(err) {
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

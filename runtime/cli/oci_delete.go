package cli

import (
	"github.com/alecthomas/kong"

	"llcr/runtime/spec"
)

// runCommand runs the parsed command. `delete` is wrapped for the spec's
// poststop hooks, which run once the container is gone, so its spec is
// read before the delete removes it.
func runCommand(ctx *kong.Context, cli *app) error {
	if ctx.Selected() == nil || ctx.Selected().Name != "delete" || spec.ValidateID(cli.Delete.ID) != nil {
		return ctx.Run(&cli.Globals)
	}
	after := poststopAfterDelete(cli.Globals.store(), cli.Delete.ID)
	if err := ctx.Run(&cli.Globals); err != nil {
		return err
	}
	after()
	return nil
}

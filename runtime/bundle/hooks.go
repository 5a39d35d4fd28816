package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hook kinds, as named in config.json.
const (
	Prestart        = "prestart"
	CreateRuntime   = "createRuntime"
	CreateContainer = "createContainer"
	StartContainer  = "startContainer"
	Poststart       = "poststart"
	Poststop        = "poststop"
)

// Hooks returns the hooks of one kind (nil for an unknown kind).
func Hooks(s *specs.Spec, kind string) []specs.Hook {
	if s == nil || s.Hooks == nil {
		return nil
	}
	for _, k := range hookKinds(s.Hooks) {
		if k.name == kind {
			return k.hooks
		}
	}
	return nil
}

// maxHookOutput bounds what of a failing hook's output goes into the error.
const maxHookOutput = 4096

// RunHooks runs the hooks of kind in order, each with the state as JSON on
// its stdin, its own env only and its timeout, stopping at the first
// failure. Whether a failure aborts the operation is the caller's rule
// (the spec's: createRuntime aborts, poststart and poststop only warn).
func RunHooks(s *specs.Spec, kind string, st specs.State) error {
	hooks := Hooks(s, kind)
	if len(hooks) == 0 {
		return nil
	}
	in, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	for i, h := range hooks {
		if err := runHook(h, in); err != nil {
			return fmt.Errorf("hooks.%s[%d] %s: %w", kind, i, h.Path, err)
		}
	}
	return nil
}

func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	// Only the hook's own environment: the runtime's is not the container's
	// business, and the spec gives hooks exactly Env.
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A hook that forks a daemon keeping our pipe would hang us past the
	// timeout: stop waiting for its output shortly after it exits.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > maxHookOutput {
			msg = msg[len(msg)-maxHookOutput:]
		}
		var ee *exec.ExitError
		if msg != "" && errors.As(err, &ee) {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

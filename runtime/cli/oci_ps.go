package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// PsCmd is runc's `ps`: the container's processes, as host pids (json) or
// as the host's `ps` shows them, filtered to the container's cgroup.
type PsCmd struct {
	Format string   `short:"f" enum:"table,json" default:"table" help:"Output format: table (the host's ps) or json (pids)."`
	ID     string   `arg:"" help:"Container id."`
	PsArgs []string `arg:"" optional:"" passthrough:"" help:"Options for ps (default -ef)."`
}

func (c *PsCmd) Run(g *Globals) error {
	_, cg, err := live(g, c.ID, true)
	if err != nil {
		return err
	}
	pids, err := cg.Pids()
	if err != nil {
		return err
	}
	slices.Sort(pids)
	if c.Format == "json" {
		if pids == nil {
			pids = []int{}
		}
		return json.NewEncoder(os.Stdout).Encode(pids)
	}
	args := c.PsArgs
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("run ps %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(ee.Stderr))
		}
		return fmt.Errorf("run ps %s: %w", strings.Join(args, " "), err)
	}
	table, err := filterPs(out, pids)
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	_, err = os.Stdout.Write(table)
	return err
}

// filterPs keeps ps's header and the lines whose PID column is one of pids.
func filterPs(out []byte, pids []int) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return nil, errors.New("its output has no PID column")
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if pid, err := strconv.Atoi(f[col]); err == nil && slices.Contains(pids, pid) {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes(), nil
}

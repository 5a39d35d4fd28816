package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"llcr/runtime/cgroup"
	"llcr/runtime/netns"
	"llcr/runtime/network"
	"llcr/runtime/spec"
	"llcr/runtime/state"
)

// ListCmd is `container list`.
type ListCmd struct {
	Quiet  bool   `short:"q" help:"Print ids only."`
	Format string `short:"f" enum:"table,json" default:"table" help:"Output format: table or json (runc's fields)."`
}

func (l *ListCmd) Run(g *Globals) error {
	store := g.store()
	ids, err := store.IDs()
	if err != nil {
		return err
	}
	var sts []*state.State
	for _, id := range ids {
		if notContainer(store, id) {
			continue
		}
		st, err := store.Load(id)
		if err != nil {
			// Like runc: a container without readable state is left out of
			// the table, with a word on stderr unless it just vanished (a
			// concurrent delete), so a leftover of a killed start is not
			// silently invisible.
			if !errors.Is(err, state.ErrNotExist) {
				fmt.Fprintf(os.Stderr, "container: %v\n", err)
			}
			continue
		}
		sts = append(sts, st)
	}
	if l.Quiet {
		for _, st := range sts {
			fmt.Println(st.ID)
		}
		return nil
	}
	if l.Format == "json" {
		return listJSON(store, sts)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	// The network columns appear only when some container has a network,
	// so the table of plain containers stays narrow.
	withNet := false
	for _, st := range sts {
		withNet = withNet || len(attachments(st)) > 0
	}
	if withNet {
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tCREATED\tIPS\tPORTS\tCOMMAND")
	} else {
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tCREATED\tCOMMAND")
	}
	for _, st := range sts {
		refresh(st)
		pid := "-"
		if st.Status != state.Stopped {
			pid = strconv.Itoa(st.Pid)
		}
		status := string(st.Status)
		if st.Status == state.Stopped && st.ExitCode != nil {
			status = fmt.Sprintf("stopped (%d)", *st.ExitCode)
		}
		created := st.Created.Local().Format(time.DateTime)
		if withNet {
			ips, ports := netColumns(st)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.ID, pid, status, created, ips, ports, strings.Join(st.Command, " "))
		} else {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", st.ID, pid, status, created, strings.Join(st.Command, " "))
		}
	}
	return w.Flush()
}

// StateCmd is `container state ID`.
type StateCmd struct {
	ID string `arg:"" help:"Container id."`
}

func (c *StateCmd) Run(g *Globals) error {
	st, err := loadState(g, c.ID)
	if err != nil {
		return err
	}
	refresh(st)
	out := struct {
		state.State
		Pid int `json:"pid"`
	}{State: *st, Pid: st.Pid}
	if st.Status == state.Stopped {
		out.Pid = 0
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func loadState(g *Globals, id string) (*state.State, error) {
	if err := spec.ValidateID(id); err != nil {
		return nil, err
	}
	return g.store().Load(id)
}

// KillCmd is `container kill [--all] ID [SIGNAL]`.
type KillCmd struct {
	All    bool   `short:"a" help:"Signal every process in the container's cgroup, not only its init."`
	ID     string `arg:"" help:"Container id."`
	Signal string `arg:"" optional:"" default:"TERM" help:"Signal name or number (default TERM)."`
}

func (k *KillCmd) Run(g *Globals) error {
	if err := requireRoot(); err != nil {
		return err
	}
	sig, err := parseSignal(k.Signal)
	if err != nil {
		return err
	}
	st, err := loadState(g, k.ID)
	if err != nil {
		return err
	}
	refresh(st)
	if st.Status != state.Running && st.Status != state.Created && st.Status != statusPaused {
		return fmt.Errorf("container %s is not running (status %s)", k.ID, st.Status)
	}
	if k.All {
		cg, err := cgroup.Load(st.Cgroup)
		if err == nil {
			err = cg.Signal(sig)
		}
		if err != nil {
			return fmt.Errorf("send %s to every process of container %s: %w", unix.SignalName(sig), k.ID, err)
		}
		return nil
	}
	if err := unix.Kill(st.Pid, sig); err != nil {
		return fmt.Errorf("send %s to container %s (pid %d): %w", unix.SignalName(sig), k.ID, st.Pid, err)
	}
	if sig == unix.SIGKILL && st.Status == statusPaused {
		// A frozen process keeps its SIGKILL pending until thawed.
		return thaw(st)
	}
	return nil
}

// thaw resumes a paused container so that a kill can take effect. One
// that is not frozen (or whose cgroup is already gone) is left alone.
func thaw(st *state.State) error {
	cg, err := cgroup.Load(st.Cgroup)
	if err != nil {
		return fmt.Errorf("thaw container %s: %w", st.ID, err)
	}
	if frozen, err := cg.Frozen(); err != nil || !frozen {
		return err
	}
	if err := cg.Thaw(); err != nil {
		return fmt.Errorf("thaw container %s: %w", st.ID, err)
	}
	return nil
}

func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: numbers go from 1 to 64", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q: use a name such as TERM, KILL, HUP or a number", s)
}

// DeleteCmd is `container delete [-f] ID`.
type DeleteCmd struct {
	Force bool   `short:"f" help:"Kill the container first if it is running (or paused)."`
	ID    string `arg:"" help:"Container id."`
}

func (d *DeleteCmd) Run(g *Globals) error {
	if err := requireRoot(); err != nil {
		return err
	}
	if err := spec.ValidateID(d.ID); err != nil {
		return err
	}
	store := g.store()
	st, err := store.Load(d.ID)
	if err != nil {
		if errors.Is(err, state.ErrNotExist) || !d.Force {
			return err
		}
		// No usable state.json: a start killed before writing it (or a
		// torn file). Its cgroup may exist with the init still inside.
		if err := removeCgroup(d.ID, nil, store.Dir(d.ID)); err != nil {
			return err
		}
		if err := network.Reap(context.Background(), d.ID); err != nil {
			return err
		}
		return store.Remove(d.ID)
	}
	st.Refresh()
	if st.Status != state.Stopped {
		if !d.Force {
			return fmt.Errorf("container %s is %s: stop it with `container kill %s` first, or use `container delete -f %s`", d.ID, st.Status, d.ID, d.ID)
		}
		if err := killAndWait(st); err != nil {
			return err
		}
	}
	// The runtime or monitor that waited for it tears it down itself;
	// give it the chance, then clean up whatever a dead one left.
	waitGone(st.Monitor, st.MonitorStart, 5*time.Second)
	if err := removeCgroup(d.ID, st.Cgroup, store.Dir(d.ID)); err != nil {
		return err
	}
	// A live holder tore the network down before exiting; Reap finds
	// nothing then. A dead one (SIGKILLed) left it to us.
	if err := network.Reap(context.Background(), d.ID); err != nil {
		return err
	}
	return store.Remove(d.ID)
}

// removeCgroup kills what is left in id's cgroup and removes it. Without
// recorded paths it falls back to where the start would have put it, so a
// start killed before it wrote state.json leaves no cgroup behind.
func removeCgroup(id string, paths map[string]string, dir string) error {
	var (
		cg  *cgroup.Manager
		err error
	)
	if len(paths) > 0 {
		cg, err = cgroup.Load(paths)
	} else {
		cg, err = defaultCgroup(id, dir)
	}
	if err == nil {
		if err = cg.KillAll(); err == nil {
			err = cg.Destroy()
		}
	}
	if err != nil {
		return fmt.Errorf("remove cgroup of %s: %w", id, err)
	}
	return nil
}

// defaultCgroup rebuilds the manager launch.Start would have used. The
// resources matter, not for their values, but because they decide which v1
// hierarchies are joined (device rules add "devices"): the detached start's
// config.json knows them; else every flag-built spec has the defaults'.
func defaultCgroup(id, dir string) (*cgroup.Manager, error) {
	path, res := "", spec.Default().Linux.Resources
	if s, err := readSpec(dir); err == nil && s.Linux != nil {
		path, res = s.Linux.CgroupsPath, s.Linux.Resources
	}
	cg, err := cgroup.New(id, path, res)
	if err != nil {
		// Limits this host cannot apply were never applied: the base
		// hierarchies are all a start could have created.
		cg, err = cgroup.New(id, path, nil)
	}
	return cg, err
}

func killAndWait(st *state.State) error {
	if err := unix.Kill(st.Pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill container %s (pid %d): %w", st.ID, st.Pid, err)
	}
	var terr error
	if len(st.Cgroup) > 0 {
		// A paused container dies only once thawed.
		terr = thaw(st)
	}
	if !waitGone(st.Pid, st.PidStart, 10*time.Second) {
		if terr != nil {
			return fmt.Errorf("container %s (pid %d) did not die after SIGKILL: %w", st.ID, st.Pid, terr)
		}
		return fmt.Errorf("container %s (pid %d) did not die after SIGKILL", st.ID, st.Pid)
	}
	return nil
}

// waitGone polls until the process is gone (or a zombie), for up to d.
func waitGone(pid int, start uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for state.Alive(pid, start) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// LogsCmd is `container logs ID`.
type LogsCmd struct {
	ID string `arg:"" help:"Container id."`
}

func (l *LogsCmd) Run(g *Globals) error {
	if err := spec.ValidateID(l.ID); err != nil {
		return err
	}
	dir := g.store().Dir(l.ID)
	f, err := os.Open(filepath.Join(dir, logFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("container %q: %w", l.ID, state.ErrNotExist)
		}
		return fmt.Errorf("container %s has no log: only detached (-d) containers keep one", l.ID)
	}
	if err != nil {
		return fmt.Errorf("open log of %s: %w", l.ID, err)
	}
	defer f.Close()
	_, err = io.Copy(os.Stdout, f)
	return err
}

// netColumns are list's IPS and PORTS: every attachment's addresses
// (without prefix length) and the published ports.
func netColumns(st *state.State) (string, string) {
	var ips, ports []string
	for _, a := range attachments(st) {
		for _, ip := range a.IPs {
			if i := strings.IndexByte(ip, '/'); i >= 0 {
				ip = ip[:i]
			}
			ips = append(ips, ip)
		}
		for _, p := range a.Ports {
			ports = append(ports, p.String())
		}
	}
	return dash(strings.Join(ips, ",")), dash(strings.Join(ports, ","))
}

// notContainer: the directory of network pins lives in the default store
// (/run/llcr/netns); it is no container.
func notContainer(store state.Store, id string) bool {
	return filepath.Clean(store.Dir(id)) == netns.Dir
}

// Package state keeps what outlives one runtime process: a directory per
// container under the root (/run/llcr/<id>) holding state.json, the files
// bind-mounted into the container (hosts, hostname, resolv.conf) and the
// log of a detached container.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultRoot is where containers live unless --root says otherwise.
const DefaultRoot = "/run/llcr"

// Status values are the OCI lifecycle's.
const (
	Creating = specs.StateCreating
	Created  = specs.StateCreated
	Running  = specs.StateRunning
	Stopped  = specs.StateStopped
)

// State is state.json: the OCI state plus what llcr needs to manage the
// container from a later process.
type State struct {
	specs.State
	Created time.Time `json:"created"`
	Rootfs  string    `json:"rootfs"`
	Command []string  `json:"command"`
	// PidStart is the start time of Pid (field 22 of /proc/<pid>/stat), so a
	// recycled pid is never mistaken for the container.
	PidStart uint64 `json:"pidStart,omitempty"`
	// Monitor is the pid of the process that waits for the container (the
	// foreground runtime or the -d monitor); 0 when none.
	Monitor      int    `json:"monitorPid,omitempty"`
	MonitorStart uint64 `json:"monitorStart,omitempty"`
	// Cgroup are the container's cgroup directories, to rebuild the manager.
	Cgroup   map[string]string `json:"cgroupPaths,omitempty"`
	Detached bool              `json:"detached,omitempty"`
	ExitCode *int              `json:"exitCode,omitempty"`
	// Networks are the container's CNI attachments ([]network.Attachment,
	// kept opaque here so state does not depend on the network code).
	Networks json.RawMessage `json:"networks,omitempty"`
	// ExitMessage explains an abnormal end (e.g. the OOM kill).
	ExitMessage string    `json:"exitMessage,omitempty"`
	Finished    time.Time `json:"finished,omitzero"`
}

const stateFile = "state.json"

// Write stores st in dir atomically: readers see the old or the new file,
// never a torn one.
func Write(dir string, st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state of %s: %w", st.ID, err)
	}
	tmp, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("write state of %s: %w", st.ID, err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, stateFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state of %s: %w", st.ID, err)
	}
	return nil
}

// Read loads dir's state.json.
func Read(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &st, nil
}

// ErrNotExist is returned for an unknown container id.
var ErrNotExist = errors.New("no such container")

// ErrNoState is returned for a container whose directory exists without
// state.json: a start in progress, or one that was killed midway.
var ErrNoState = errors.New("container has no state")

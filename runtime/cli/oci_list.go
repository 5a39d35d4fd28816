package cli

import (
	"encoding/json"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"llcr/runtime/state"
)

// listEntry is one container in `list --format json`, with runc's fields.
type listEntry struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func listJSON(store state.Store, sts []*state.State) error {
	out := []listEntry{}
	for _, st := range sts {
		refresh(st)
		e := listEntry{Version: st.Version, ID: st.ID, Pid: st.Pid, Status: string(st.Status),
			Bundle: st.Bundle, Rootfs: st.Rootfs, Created: st.Created,
			Owner: owner(store.Dir(st.ID)), Annotations: st.Annotations}
		if st.Status == state.Stopped {
			e.Pid = 0
		}
		out = append(out, e)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// owner is who made the container, as runc reports it: the owner of its
// state directory, by name when the host knows one.
func owner(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid := strconv.FormatUint(uint64(sys.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}

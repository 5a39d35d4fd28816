package launch

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/initproc"
	"llcr/runtime/mountopt"
	"llcr/runtime/proto"
)

// cloneBinds clones the source of every bind mount of the spec, keyed by its
// index in mounts. On error the clones made so far are returned too, for
// the caller to close.
func cloneBinds(mounts []specs.Mount) (map[int]int, error) {
	out := map[int]int{}
	for i, m := range mounts {
		if m.Type != "bind" && !mountopt.Parse(m.Options).Bind {
			continue
		}
		fd, err := initproc.CloneBind(m)
		if err != nil {
			return out, err
		}
		out[i] = fd
	}
	return out, nil
}

func closeAll(fds map[int]int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

const maxFds = proto.MaxFds

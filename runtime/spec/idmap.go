package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const idMapWant = "want CONTAINER_ID:HOST_ID:SIZE such as 0:100000:65536"

// ParseIDMap parses one "CONTAINER:HOST:SIZE" user-namespace mapping.
func ParseIDMap(s string) (specs.LinuxIDMapping, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return specs.LinuxIDMapping{}, invalid("id map", s, idMapWant)
	}
	var v [3]uint32
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return specs.LinuxIDMapping{}, invalid("id map", s, idMapWant+" (each field a number from 0 to 4294967295)")
		}
		v[i] = uint32(n)
	}
	m := specs.LinuxIDMapping{ContainerID: v[0], HostID: v[1], Size: v[2]}
	if m.Size == 0 {
		return specs.LinuxIDMapping{}, invalid("id map", s, "SIZE must be at least 1; "+idMapWant)
	}
	// The kernel rejects a range whose end wraps the 32-bit ID space;
	// 4294967295 itself is (uid_t)-1, "no id", and cannot be mapped.
	if uint64(m.ContainerID)+uint64(m.Size) > math.MaxUint32 || uint64(m.HostID)+uint64(m.Size) > math.MaxUint32 {
		return specs.LinuxIDMapping{}, invalid("id map", s, "the range runs past the largest id 4294967294; lower SIZE")
	}
	return m, nil
}

// parseIDMaps parses every mapping given to flag and refuses overlaps,
// which the kernel would otherwise reject with a bare EINVAL when the
// map is written.
func parseIDMaps(flag string, in []string) ([]specs.LinuxIDMapping, error) {
	var out []specs.LinuxIDMapping
	for _, s := range in {
		m, err := ParseIDMap(s)
		if err != nil {
			return nil, forFlag(flag, err)
		}
		for _, prev := range out {
			if overlaps(prev.ContainerID, prev.Size, m.ContainerID, m.Size) {
				return nil, fmt.Errorf("%s %s overlaps %s in the container ids: give each container id one mapping", flag, s, formatIDMap(prev))
			}
			if overlaps(prev.HostID, prev.Size, m.HostID, m.Size) {
				return nil, fmt.Errorf("%s %s overlaps %s in the host ids: give each host id one mapping", flag, s, formatIDMap(prev))
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func overlaps(a, alen, b, blen uint32) bool {
	return uint64(a) < uint64(b)+uint64(blen) && uint64(b) < uint64(a)+uint64(alen)
}

func formatIDMap(m specs.LinuxIDMapping) string {
	return fmt.Sprintf("%d:%d:%d", m.ContainerID, m.HostID, m.Size)
}

func formatIDMaps(ms []specs.LinuxIDMapping) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = formatIDMap(m)
	}
	return strings.Join(s, ",")
}

// mapped reports whether container id is covered by one of the mappings.
func mapped(id uint32, ms []specs.LinuxIDMapping) bool {
	for _, m := range ms {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

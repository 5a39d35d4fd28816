package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const volumeWant = "want HOST_PATH:CONTAINER_PATH[:ro|rw] such as ./data:/data:ro"

// ParseVolume turns a docker-style -v value into a bind mount. Unlike
// docker it never creates a missing host path: silently creating a
// directory hides typos in the path.
func ParseVolume(s string) (specs.Mount, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return specs.Mount{}, invalid("volume", s, volumeWant)
	}
	host, ctr := parts[0], parts[1]
	opts := []string{"rbind", "rprivate"}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			opts = append(opts, "ro")
		case "rw":
		default:
			return specs.Mount{}, invalid("volume", s, fmt.Sprintf("mode %q is neither ro nor rw; %s", parts[2], volumeWant))
		}
	}
	if !filepath.IsAbs(ctr) {
		return specs.Mount{}, invalid("volume", s, fmt.Sprintf("container path %q must be absolute, e.g. /%s", ctr, strings.TrimLeft(ctr, "./")))
	}
	ctr = filepath.Clean(ctr)
	if ctr == "/" {
		return specs.Mount{}, invalid("volume", s, "cannot mount over the container's root; pick a directory such as /data")
	}
	abs, err := filepath.Abs(host)
	if err != nil {
		return specs.Mount{}, fmt.Errorf("make volume source %q absolute: %w", host, err)
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return specs.Mount{}, fmt.Errorf("volume source %s does not exist: create it first or fix the path in %q", abs, s)
		}
		return specs.Mount{}, fmt.Errorf("check volume source %s: %w", abs, err)
	}
	return specs.Mount{
		Destination: ctr,
		Type:        "bind",
		Source:      abs,
		Options:     opts,
	}, nil
}

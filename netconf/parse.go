package netconf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"
)

// Parse turns a conflist (or a single-plugin .conf, which it upconverts to a
// one-plugin list as libcni does) into a Network. On top of libcni's own
// parsing it checks the fields llcr relies on, so that a mistake in a
// hand-edited file is reported when the file is read, naming the file and
// the field, rather than surfacing later as an opaque plugin failure.
func Parse(file string, b []byte) (*Network, error) {
	n, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", displayName(file), err)
	}
	n.File = file
	return n, nil
}

func displayName(file string) string {
	if file == "" {
		return "network config"
	}
	return file
}

func parse(b []byte) (*Network, error) {
	obj, err := decodeObject(b)
	if err != nil {
		return nil, err
	}
	if err := checkName(obj); err != nil {
		return nil, err
	}
	if err := checkVersion(obj); err != nil {
		return nil, err
	}

	var list *libcni.NetworkConfigList
	rawPlugins, hasPlugins := obj["plugins"]
	switch {
	case hasPlugins:
		plugins, ok := rawPlugins.([]any)
		if !ok {
			return nil, fmt.Errorf("plugins: must be an array, not %s", jsonKind(rawPlugins))
		}
		if len(plugins) == 0 {
			return nil, fmt.Errorf("plugins: the list is empty; a network needs at least one plugin")
		}
		for i, p := range plugins {
			if err := checkPlugin(fmt.Sprintf("plugins[%d]", i), p); err != nil {
				return nil, err
			}
		}
		if list, err = libcni.NetworkConfFromBytes(b); err != nil {
			return nil, err
		}
	case obj["type"] != nil:
		// A bare plugin config: the old .conf format libcni still loads.
		if err := checkPlugin("", obj); err != nil {
			return nil, err
		}
		pc, err := libcni.NetworkPluginConfFromBytes(b)
		if err != nil {
			return nil, err
		}
		if list, err = libcni.ConfListFromConf(pc); err != nil {
			return nil, err
		}
	default:
		// libcni would look for plugins in a directory named after the
		// network; llcr keeps a network in one file so that the cached
		// config is the whole network.
		return nil, fmt.Errorf(`missing "plugins" (a conflist needs a plugins array; a single-plugin .conf needs "type")`)
	}
	if list.CNIVersion == "" {
		return nil, fmt.Errorf("cniVersions: none is supported (supported: %s)", supportedVersions())
	}
	return &Network{Name: list.Name, List: list}, nil
}

func checkName(obj map[string]any) error {
	raw, ok := obj["name"]
	if !ok {
		return fmt.Errorf(`missing "name"`)
	}
	name, ok := raw.(string)
	if !ok {
		return fmt.Errorf("name: must be a string, not %s", jsonKind(raw))
	}
	if utils.ValidateNetworkName(name) != nil {
		return fmt.Errorf("name: invalid network name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit", name)
	}
	return nil
}

// checkVersion insists on a version libcni implements: a config written for
// a newer spec would otherwise be sent to plugins that misread it.
func checkVersion(obj map[string]any) error {
	raw, hasOne := obj["cniVersion"]
	_, hasList := obj["cniVersions"]
	if !hasOne && !hasList {
		return fmt.Errorf(`missing "cniVersion" (supported: %s)`, supportedVersions())
	}
	if !hasOne {
		return nil // libcni picks the newest supported entry of cniVersions
	}
	v, ok := raw.(string)
	if !ok {
		return fmt.Errorf("cniVersion: must be a string, not %s", jsonKind(raw))
	}
	if !slices.Contains(version.All.SupportedVersions(), v) {
		return fmt.Errorf("cniVersion %q is not supported (supported: %s)", v, supportedVersions())
	}
	return nil
}

func supportedVersions() string {
	return strings.Join(version.All.SupportedVersions(), ", ")
}

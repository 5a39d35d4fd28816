package netconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Where networks live. llcr's own directory comes first so that a network
// llcr created shadows a same-named one from another CNI runtime; the CNI
// convention's directory is read so networks set up for other runtimes can
// be used as they are.
const (
	LlcrConfigDir = "/etc/llcr/net.d"
	CNIConfigDir  = "/etc/cni/net.d"
)

// DefaultName is the network a container joins when none is named; it is
// built in, written on first use.
const DefaultName = "default"

// Loader finds networks. Dirs is the search order: the first file defining
// a name wins. WriteDir is where the built-in default and `network create`
// write, and the only directory Remove touches.
type Loader struct {
	Dirs     []string
	WriteDir string
}

// DefaultLoader searches configDir alone when the user named one (and
// writes there too, or networks created there could not be found again);
// otherwise /etc/llcr/net.d then /etc/cni/net.d, writing to the first.
func DefaultLoader(configDir string) Loader {
	if configDir != "" {
		return Loader{Dirs: []string{configDir}, WriteDir: configDir}
	}
	return Loader{Dirs: []string{LlcrConfigDir, CNIConfigDir}, WriteDir: LlcrConfigDir}
}

// badFile is a config file that could not be loaded. It is kept so that
// `network ls` can say so and a lookup of the name the file was probably
// meant to define reports the real problem instead of "not found".
type badFile struct {
	path string
	err  error
}

// stem is the file name without extension: the name a broken file most
// likely defines, since that is how llcr and most tools name them.
func stem(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// scan loads every network in Dirs; on a name defined twice the first wins.
func (l Loader) scan() ([]*Network, []badFile) {
	var nets []*Network
	var bad []badFile
	seen := map[string]bool{}
	for _, dir := range l.Dirs {
		files, err := configFiles(dir)
		if err != nil {
			bad = append(bad, badFile{path: dir, err: err})
			continue
		}
		for _, f := range files {
			n, err := loadFile(f)
			if err != nil {
				bad = append(bad, badFile{path: f, err: err})
				continue
			}
			if !seen[n.Name] {
				seen[n.Name] = true
				nets = append(nets, n)
			}
		}
	}
	return nets, bad
}

// configFiles lists dir's config files in libcni's precedence: .conflist
// files first, then the older .conf and .json, each group sorted by name.
// A missing directory holds no networks; that is not an error.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read network config dir %s: %w", dir, err)
	}
	var lists, singles []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch filepath.Ext(e.Name()) {
		case ".conflist":
			lists = append(lists, filepath.Join(dir, e.Name()))
		case ".conf", ".json":
			singles = append(singles, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(lists)
	sort.Strings(singles)
	return append(lists, singles...), nil
}

func loadFile(path string) (*Network, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read network config: %w", err)
	}
	return Parse(path, b)
}

// Get returns the named network. The default network is written on first
// use when no file defines it.
func (l Loader) Get(name string) (*Network, error) {
	nets, bad := l.scan()
	for _, n := range nets {
		if n.Name == name {
			if name == DefaultName {
				return l.upgradeDefault(n), nil
			}
			return n, nil
		}
	}
	for _, b := range bad {
		if stem(b.path) == name {
			return nil, fmt.Errorf("network %q: %w", name, b.err)
		}
	}
	if name == DefaultName {
		return l.ensureDefault()
	}
	return nil, l.notFound(name, nets, bad)
}

func (l Loader) notFound(name string, nets []*Network, bad []badFile) error {
	names := make([]string, 0, len(nets))
	for _, n := range nets {
		names = append(names, n.Name)
	}
	if !slices.Contains(names, DefaultName) {
		names = append(names, DefaultName) // always available: built in
	}
	sort.Strings(names)
	msg := fmt.Sprintf("network %q not found in %s (available: %s; create it with: container network create %s)",
		name, strings.Join(l.Dirs, ", "), strings.Join(names, ", "), name)
	if len(bad) > 0 {
		var paths []string
		for _, b := range bad {
			paths = append(paths, b.path)
		}
		msg += fmt.Sprintf("; unreadable config files: %s", strings.Join(paths, ", "))
	}
	return errors.New(msg)
}

// List returns every network, sorted by name. A broken file does not hide
// the good ones: they are returned together with an error naming each bad
// file and its problem, so callers can show both.
func (l Loader) List() ([]*Network, error) {
	nets, bad := l.scan()
	sort.Slice(nets, func(i, j int) bool { return nets[i].Name < nets[j].Name })
	var errs []error
	for _, b := range bad {
		errs = append(errs, b.err)
	}
	return nets, errors.Join(errs...)
}

package netconf

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"text/template"
)

// defaultConflist is the built-in default network; only its subnet varies
// from host to host, so that is the one template field.
//
//go:embed default.conflist
var defaultConflist string

// Parsed on first use: package-level parsing would cost every start of the
// runtime binary, networked or not.
var defaultTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("default.conflist").Parse(defaultConflist))
})

// DefaultBridge is the default network's bridge; created networks may not
// reuse it.
const DefaultBridge = "llcr0"

// renderDefault fills the subnet into the embedded default conflist.
func renderDefault(subnet netip.Prefix) ([]byte, error) {
	var b bytes.Buffer
	if err := defaultTemplate().Execute(&b, struct{ Subnet string }{subnet.String()}); err != nil {
		return nil, fmt.Errorf("render default network config: %w", err)
	}
	return b.Bytes(), nil
}

// ensureDefault writes WriteDir/default.conflist with a subnet that
// overlaps neither the host's routes nor any other network, then loads it.
// The directory lock and the re-scan under it make concurrent first uses
// agree on one file instead of each writing its own subnet.
func (l Loader) ensureDefault() (*Network, error) {
	if err := os.MkdirAll(l.WriteDir, 0o755); err != nil {
		return nil, fmt.Errorf("create network config dir %s: %w", l.WriteDir, err)
	}
	unlock, err := lockDir(l.WriteDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	nets, _ := l.scan()
	for _, n := range nets {
		if n.Name == DefaultName {
			return n, nil // another process wrote it while we waited
		}
	}
	avoid, err := hostRoutes()
	if err != nil {
		return nil, fmt.Errorf("choose a subnet for the default network: %w", err)
	}
	for _, n := range nets {
		avoid = append(avoid, Subnets(n)...)
	}
	subnet, err := ChooseSubnet(avoid)
	if err != nil {
		return nil, fmt.Errorf("choose a subnet for the default network: %w", err)
	}
	b, err := renderDefault(subnet)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(l.WriteDir, DefaultName+".conflist")
	n, err := Parse(path, b)
	if err != nil {
		return nil, fmt.Errorf("built-in default network: %w", err) // a bug in default.conflist
	}
	if err := writeNew(path, b, 0o644); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("write the default network: %s exists but does not define network %q", path, DefaultName)
		}
		return nil, fmt.Errorf("write the default network: %w", err)
	}
	return n, nil
}

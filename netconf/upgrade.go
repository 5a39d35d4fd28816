package netconf

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"text/template"
)

// legacyDefaults are earlier versions of default.conflist. A default network
// file that is byte for byte one of them was written by an older llcr and
// never edited, so it is rewritten from the current template (same subnet):
// the host then gains what newer versions added (the "mac" capability)
// without the user having to delete the file. Edited files are left alone.
var legacyDefaults = sync.OnceValue(func() []*template.Template {
	return []*template.Template{
		template.Must(template.New("v1").Parse(`{
  "cniVersion": "1.1.0",
  "name": "default",
  "plugins": [
    {
      "type": "llcr-veth",
      "bridge": "llcr0",
      "isGateway": true,
      "ipMasq": true,
      "capabilities": {"ips": true},
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "{{.Subnet}}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {
      "type": "portmap",
      "capabilities": {"portMappings": true},
      "snat": true
    }
  ]
}
`)),
	}
})

// upgradeDefault returns n, rewritten from the current template first when
// its file is an unedited older default in WriteDir. Any failure keeps the
// old network: it still works, only without the newer features.
func (l Loader) upgradeDefault(n *Network) *Network {
	if n.File != filepath.Join(l.WriteDir, DefaultName+".conflist") {
		return n
	}
	subnets := Subnets(n)
	if len(subnets) != 1 {
		return n
	}
	vars := struct{ Subnet string }{subnets[0].String()}
	for _, t := range legacyDefaults() {
		var old bytes.Buffer
		// The bytes already loaded decide first, so the usual case (an
		// up-to-date file) costs no lock on every start.
		if t.Execute(&old, vars) != nil || !bytes.Equal(old.Bytes(), n.List.Bytes) {
			continue
		}
		unlock, err := lockDir(l.WriteDir)
		if err != nil {
			return n
		}
		defer unlock()
		if cur, err := os.ReadFile(n.File); err != nil || !bytes.Equal(old.Bytes(), cur) {
			return n // changed meanwhile: another llcr upgraded it, or the user
		}
		b, err := renderDefault(subnets[0])
		if err != nil {
			return n
		}
		up, err := Parse(n.File, b)
		if err != nil || writeReplace(n.File, b, 0o644) != nil {
			return n
		}
		return up
	}
	return n
}

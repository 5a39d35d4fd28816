package netconf

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpgradeLegacyDefault(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "default.conflist")
	var old bytes.Buffer
	if err := legacyDefaults()[0].Execute(&old, struct{ Subnet string }{"10.89.3.0/24"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, old.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := DefaultLoader(dir).Get(DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"mac": true`) {
		t.Errorf("legacy default not upgraded:\n%s", b)
	}
	if s := Subnets(n); len(s) != 1 || s[0] != netip.MustParsePrefix("10.89.3.0/24") {
		t.Errorf("subnets after upgrade = %v, want the old 10.89.3.0/24", s)
	}

	// An edited file is the user's: left as it is.
	edited := strings.Replace(old.String(), `"ipMasq": true`, `"ipMasq": false`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DefaultLoader(dir).Get(DefaultName); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != edited {
		t.Errorf("edited default was rewritten:\n%s", b)
	}
}

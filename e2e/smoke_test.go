package e2e

import (
	"strings"
	"testing"
)

func TestSmokeEcho(t *testing.T) {
	e := newEnv(t)
	out := e.ok(e.sh("echo hello"))
	if strings.TrimSpace(out) != "hello" {
		t.Fatalf("stdout %q, want hello", out)
	}
}

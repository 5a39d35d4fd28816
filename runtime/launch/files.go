package launch

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// etcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its state directory and binds them in, so the
// user's rootfs is never edited.
func etcFiles(s *specs.Spec, dir string) error {
	host := s.Hostname
	if host == "" {
		host = "localhost"
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", host)
	files := []struct{ name, content string }{
		{"hostname", host + "\n"},
		{"hosts", hosts},
		{"resolv.conf", resolvConf("/etc/resolv.conf")},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if hasMount(s, "/etc/"+f.name) {
			continue
		}
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: "/etc/" + f.name, Type: "bind", Source: p,
			Options: []string{"bind", "rprivate"},
		})
	}
	return nil
}

func hasMount(s *specs.Spec, dest string) bool {
	for _, m := range s.Mounts {
		if filepath.Clean(m.Destination) == dest {
			return true
		}
	}
	return false
}

// resolvConf is the host's resolver configuration without loopback
// nameservers, which would point at the container's own lo.
func resolvConf(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	return out.String()
}

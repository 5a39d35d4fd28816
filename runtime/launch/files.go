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

	"llcr/runtime/network"
)

// etcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its state directory and binds them in, so the
// user's rootfs is never edited.
func etcFiles(s *specs.Spec, dir string, net *network.Setup) error {
	host := s.Hostname
	if host == "" {
		host = "localhost"
	}
	var hosts strings.Builder
	named := false
	resolv := ""
	if net != nil {
		for _, a := range net.Attachments {
			for _, ip := range a.IPs {
				if p, err := netip.ParsePrefix(ip); err == nil {
					fmt.Fprintf(&hosts, "%s\t%s\n", p.Addr(), host)
					named = true
				}
			}
		}
		if len(net.DNS) > 0 {
			resolv = nameservers(net.DNS, net.Search)
		}
	}
	loop := "127.0.0.1\tlocalhost"
	if !named {
		// Without an address of its own the name resolves to loopback.
		loop += " " + host
	}
	hostsFile := loop + "\n::1\tlocalhost ip6-localhost ip6-loopback\n" + hosts.String()
	if resolv == "" {
		resolv = resolvConf("/etc/resolv.conf")
	}
	files := []struct{ name, content string }{
		{"hostname", host + "\n"},
		{"hosts", hostsFile},
		{"resolv.conf", resolv},
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

func nameservers(servers, search []string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, s := range servers {
		if !seen[s] {
			seen[s] = true
			fmt.Fprintf(&b, "nameserver %s\n", s)
		}
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	return b.String()
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

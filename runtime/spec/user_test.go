package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
bob:x:1001:100::/home/bob:/bin/sh
nohome:x:1002:1002:::/bin/sh
1234:x:4321:4321:numeric name:/home/numeric:/bin/sh
`

const testGroup = `root:x:0:
wheel:x:10:root,alice
users:x:100:bob
alice:x:1000:
staff:x:50:alice,bob
nohome:x:1002:
dup:x:10:alice
`

// newRootfs makes a temporary rootfs holding the given files.
func newRootfs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveUser(t *testing.T) {
	root := newRootfs(t, map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup})
	tests := []struct {
		in   string
		want specs.User
		home string
	}{
		{"", specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{10}}, "/root"},
		{"root", specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{10}}, "/root"},
		{"0", specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{10}}, "/root"},
		{"alice", specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 50}}, "/home/alice"},
		{"1000", specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 50}}, "/home/alice"},
		// The primary group is not repeated among the additional ones.
		{"bob", specs.User{UID: 1001, GID: 100, AdditionalGids: []uint32{50}}, "/home/bob"},
		// An explicit group replaces the primary one and, as in docker,
		// means no supplementary groups.
		{"alice:staff", specs.User{UID: 1000, GID: 50}, "/home/alice"},
		{"alice:7", specs.User{UID: 1000, GID: 7}, "/home/alice"},
		{"1000:100", specs.User{UID: 1000, GID: 100}, "/home/alice"},
		{"0:10", specs.User{UID: 0, GID: 10}, "/root"},
		// A numeric UID needs no passwd entry.
		{"5000", specs.User{UID: 5000, GID: 0}, "/"},
		{"5000:5000", specs.User{UID: 5000, GID: 5000}, "/"},
		{"5000:users", specs.User{UID: 5000, GID: 100}, "/"},
		// All-digit strings are ids, never names (docker's rule).
		{"1234", specs.User{UID: 1234, GID: 0}, "/"},
		{"nohome", specs.User{UID: 1002, GID: 1002}, "/"},
		{"2147483647", specs.User{UID: 2147483647}, "/"},
	}
	for _, tt := range tests {
		u, home, err := ResolveUser(root, tt.in)
		if err != nil {
			t.Errorf("ResolveUser(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(u, tt.want) || home != tt.home {
			t.Errorf("ResolveUser(%q) = %+v, %q; want %+v, %q", tt.in, u, home, tt.want, tt.home)
		}
	}
}

func TestResolveUserErrors(t *testing.T) {
	root := newRootfs(t, map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup})
	passwd := filepath.Join(root, "etc/passwd")
	group := filepath.Join(root, "etc/group")
	tests := []struct{ in, want string }{
		{"carol", `unknown user "carol": not found in ` + passwd},
		{"alice:nogroup", `unknown group "nogroup": not found in ` + group},
		{"alice:", `invalid user "alice:": want UID[:GID] or NAME[:GROUP]`},
		{":10", `invalid user ":10": want UID[:GID] or NAME[:GROUP]`},
		{"2147483648", `invalid user "2147483648": id 2147483648 is out of range`},
		{"1:99999999999999999999", `invalid user "1:99999999999999999999": id 99999999999999999999 is out of range`},
	}
	for _, tt := range tests {
		_, _, err := ResolveUser(root, tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ResolveUser(%q) error = %v, want one starting %q", tt.in, err, tt.want)
		}
	}
}

func TestResolveUserNoDatabase(t *testing.T) {
	root := t.TempDir()
	for in, want := range map[string]specs.User{
		"":          {},
		"0":         {},
		"1000":      {UID: 1000},
		"1000:1000": {UID: 1000, GID: 1000},
	} {
		u, home, err := ResolveUser(root, in)
		if err != nil || !reflect.DeepEqual(u, want) || home != "/" {
			t.Errorf("ResolveUser(%q) without /etc/passwd = %+v, %q, %v; want %+v, \"/\"", in, u, home, err, want)
		}
	}
	_, _, err := ResolveUser(root, "alice")
	if err == nil || !strings.Contains(err.Error(), `unknown user "alice": `+filepath.Join(root, "etc/passwd")+" does not exist") {
		t.Errorf("named user without /etc/passwd: %v", err)
	}
	_, _, err = ResolveUser(root, "0:wheel")
	if err == nil || !strings.Contains(err.Error(), `unknown group "wheel": `+filepath.Join(root, "etc/group")+" does not exist") {
		t.Errorf("named group without /etc/group: %v", err)
	}
}

// A hostile image's /etc/passwd that points outside the rootfs must be
// resolved inside the rootfs, never read from the host.
func TestResolveUserSymlinkEscape(t *testing.T) {
	outside := t.TempDir()
	outsidePasswd := filepath.Join(outside, "passwd")
	if err := os.WriteFile(outsidePasswd, []byte("evil:x:4242:4242::/evil:/bin/sh\nroot:x:0:0::/evil:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outsideGroup := filepath.Join(outside, "group")
	if err := os.WriteFile(outsideGroup, []byte("evilgrp:x:4242:root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]func(root string) string{
		"absolute": func(string) string { return outsidePasswd },
		"deep":     func(string) string { return strings.Repeat("../", 20) + strings.TrimPrefix(outsidePasswd, "/") },
		"relative": func(root string) string {
			// Exactly the relative path a naive open would follow to the host file.
			rel, err := filepath.Rel(filepath.Join(root, "etc"), outsidePasswd)
			if err != nil {
				t.Fatal(err)
			}
			return rel
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			link := target(root)
			if data, err := os.ReadFile(filepath.Join(root, "etc", link)); !filepath.IsAbs(link) && (err != nil || !strings.Contains(string(data), "evil")) {
				t.Fatalf("test setup: %s does not reach the outside file", link)
			}
			if err := os.Symlink(link, filepath.Join(root, "etc/passwd")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(strings.Replace(link, "passwd", "group", 1), filepath.Join(root, "etc/group")); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ResolveUser(root, "evil"); err == nil || !strings.Contains(err.Error(), `unknown user "evil"`) {
				t.Errorf("user only in the host file resolved: %v", err)
			}
			u, home, err := ResolveUser(root, "")
			if err != nil || home != "/" || len(u.AdditionalGids) != 0 {
				t.Errorf("root picked up the host file: %+v, %q, %v", u, home, err)
			}
			if _, _, err := ResolveUser(root, "0:evilgrp"); err == nil {
				t.Error("group only in the host file resolved")
			}
		})
	}
}

// Symlinks that stay inside the rootfs are followed, relative to it.
func TestResolveUserSymlinkInside(t *testing.T) {
	root := newRootfs(t, map[string]string{"data/passwd": testPasswd, "etc/group": ""})
	if err := os.Symlink("/data/passwd", filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	u, home, err := ResolveUser(root, "alice")
	if err != nil || u.UID != 1000 || home != "/home/alice" {
		t.Errorf("ResolveUser through an inside symlink = %+v, %q, %v", u, home, err)
	}
}

func TestResolveUserBadEntries(t *testing.T) {
	root := newRootfs(t, map[string]string{
		"etc/passwd": "neg:x:-1:0::/:/bin/sh\nbiggid:x:5:4294967296::/:/bin/sh\nok:x:7:7::/:/bin/sh\n",
		"etc/group":  "badg:x:-5:ok\ngood:x:8:ok\n",
	})
	for _, in := range []string{"neg", "biggid", "ok:badg"} {
		if _, _, err := ResolveUser(root, in); err == nil || !strings.Contains(err.Error(), "ids must be from 0 to 2147483647") {
			t.Errorf("ResolveUser(%q) error = %v", in, err)
		}
	}
	// An invalid group does not poison membership lookups.
	u, _, err := ResolveUser(root, "ok")
	if err != nil || !reflect.DeepEqual(u.AdditionalGids, []uint32{8}) {
		t.Errorf("ResolveUser(ok) = %+v, %v", u, err)
	}
}

func TestResolveUserNotRegular(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A FIFO would block a plain open forever.
	if err := syscall.Mkfifo(filepath.Join(root, "etc/passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ResolveUser(root, "alice")
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO passwd: %v", err)
	}
}

func TestResolveUserTooLarge(t *testing.T) {
	big := strings.Repeat("#"+strings.Repeat("x", 1023)+"\n", (maxDBBytes/1024)+2)
	root := newRootfs(t, map[string]string{"etc/passwd": big + "late:x:7:7::/:/bin/sh\n"})
	_, _, err := ResolveUser(root, "late")
	if err == nil || !strings.Contains(err.Error(), "larger than 10MiB") {
		t.Errorf("huge passwd: %v", err)
	}
}

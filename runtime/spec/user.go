package spec

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxDBBytes bounds how much of a rootfs's passwd/group file is read: the
// rootfs is untrusted and could hold an enormous file.
const maxDBBytes = 10 << 20

// ResolveUser turns a --user value (UID[:GID] or NAME[:GROUP], "" = root)
// into process credentials using the rootfs's own /etc/passwd and
// /etc/group, as docker does.
//
// Supplementary groups come from /etc/group membership only when no group
// is given explicitly, again as docker does: "user:group" means exactly
// that group. A numeric UID needs no passwd entry; a name must have one.
func ResolveUser(rootfs, spec string) (specs.User, string, error) {
	usr, grp, hasGroup := strings.Cut(spec, ":")
	if (hasGroup && grp == "") || (spec != "" && usr == "") {
		return specs.User{}, "", invalid("user", spec, "want UID[:GID] or NAME[:GROUP] such as 1000:1000 or nobody")
	}

	users, passwdPath, err := readPasswd(rootfs)
	if err != nil {
		return specs.User{}, "", err
	}

	var (
		u     specs.User
		home  = "/"
		name  string // of the matched passwd entry, for group membership
		entry *user.User
	)
	switch id, isNum, err := parseID(usr); {
	case err != nil:
		return specs.User{}, "", invalid("user", spec, err.Error())
	case usr == "":
		entry = findUser(users, func(e user.User) bool { return e.Uid == 0 })
	case isNum:
		u.UID = id
		entry = findUser(users, func(e user.User) bool { return e.Uid == int(id) })
	default:
		entry = findUser(users, func(e user.User) bool { return e.Name == usr })
		if entry == nil {
			if users == nil {
				return specs.User{}, "", fmt.Errorf("unknown user %q: %s does not exist; use a numeric UID or add the user to the rootfs", usr, passwdPath)
			}
			return specs.User{}, "", fmt.Errorf("unknown user %q: not found in %s", usr, passwdPath)
		}
	}
	if entry != nil {
		// The image's files are untrusted: do not let "-1" wrap to a uid.
		if !validID(entry.Uid) || !validID(entry.Gid) {
			return specs.User{}, "", fmt.Errorf("user %q in %s has uid %d gid %d: ids must be from 0 to %d; fix the entry or use a numeric --user", entry.Name, passwdPath, entry.Uid, entry.Gid, math.MaxInt32)
		}
		u.UID = uint32(entry.Uid)
		// "" means root with root's group, whatever passwd says.
		if usr != "" {
			u.GID = uint32(entry.Gid)
		}
		if entry.Home != "" {
			home = entry.Home
		}
		name = entry.Name
	}

	if !hasGroup && name == "" {
		return u, home, nil
	}
	groups, groupPath, err := readGroup(rootfs)
	if err != nil {
		return specs.User{}, "", err
	}
	if hasGroup {
		gid, err := resolveGroup(spec, grp, groups, groupPath)
		if err != nil {
			return specs.User{}, "", err
		}
		u.GID = gid
		return u, home, nil
	}
	for _, g := range groups {
		if !validID(g.Gid) {
			continue
		}
		gid := uint32(g.Gid)
		if gid != u.GID && slices.Contains(g.List, name) && !slices.Contains(u.AdditionalGids, gid) {
			u.AdditionalGids = append(u.AdditionalGids, gid)
		}
	}
	return u, home, nil
}

func resolveGroup(spec, grp string, groups []user.Group, groupPath string) (uint32, error) {
	id, isNum, err := parseID(grp)
	if err != nil {
		return 0, invalid("user", spec, err.Error())
	}
	if isNum {
		return id, nil
	}
	for _, g := range groups {
		if g.Name == grp {
			if !validID(g.Gid) {
				return 0, fmt.Errorf("group %q in %s has gid %d: ids must be from 0 to %d; fix the entry or use a numeric group", grp, groupPath, g.Gid, math.MaxInt32)
			}
			return uint32(g.Gid), nil
		}
	}
	if groups == nil {
		return 0, fmt.Errorf("unknown group %q: %s does not exist; use a numeric GID or add the group to the rootfs", grp, groupPath)
	}
	return 0, fmt.Errorf("unknown group %q: not found in %s", grp, groupPath)
}

// parseID reads a numeric UID/GID. Like docker (moby/sys/user), IDs above
// MaxInt32 are refused, and a non-numeric string is a name, not an error.
func parseID(s string) (uint32, bool, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > math.MaxInt32 {
		return 0, true, fmt.Errorf("id %s is out of range; ids go from 0 to %d", s, math.MaxInt32)
	}
	return uint32(n), true, nil
}

func validID(id int) bool { return id >= 0 && id <= math.MaxInt32 }

func findUser(users []user.User, match func(user.User) bool) *user.User {
	for i := range users {
		if match(users[i]) {
			return &users[i]
		}
	}
	return nil
}

// readPasswd parses the rootfs's /etc/passwd. A missing file yields nil
// entries and no error: numeric users need no database.
func readPasswd(rootfs string) ([]user.User, string, error) {
	var users []user.User
	path, err := readInRoot(rootfs, "/etc/passwd", func(r io.Reader) (err error) {
		users, err = user.ParsePasswd(r)
		if users == nil {
			users = []user.User{} // the file exists, even if empty
		}
		return err
	})
	return users, path, err
}

func readGroup(rootfs string) ([]user.Group, string, error) {
	var groups []user.Group
	path, err := readInRoot(rootfs, "/etc/group", func(r io.Reader) (err error) {
		groups, err = user.ParseGroup(r)
		if groups == nil {
			groups = []user.Group{}
		}
		return err
	})
	return groups, path, err
}

// readInRoot opens name inside rootfs, resolving every symlink as if
// rootfs were "/", so a hostile image cannot make us read host files such
// as the host's /etc/shadow through /etc/passwd -> /../../etc/shadow.
// parse is not called when the file does not exist. It returns the path
// shown in messages.
func readInRoot(rootfs, name string, parse func(io.Reader) error) (string, error) {
	shown := filepath.Join(rootfs, name)
	handle, err := pathrs.OpenInRoot(rootfs, name)
	if err != nil {
		if securejoin.IsNotExist(err) {
			return shown, nil
		}
		return shown, fmt.Errorf("open %s in the rootfs: %w", name, err)
	}
	defer handle.Close()
	// Check the type through the O_PATH handle before really opening it:
	// opening a FIFO planted at /etc/passwd would block forever.
	st, err := handle.Stat()
	if err != nil {
		return shown, fmt.Errorf("stat %s: %w", shown, err)
	}
	if !st.Mode().IsRegular() {
		return shown, fmt.Errorf("read %s: not a regular file; the rootfs's %s must be a plain file", shown, name)
	}
	f, err := pathrs.Reopen(handle, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return shown, fmt.Errorf("open %s: %w", shown, err)
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: maxDBBytes + 1}
	if err := parse(lr); err != nil {
		return shown, fmt.Errorf("parse %s: %w", shown, err)
	}
	if lr.N == 0 {
		return shown, fmt.Errorf("read %s: larger than %s; is this really a user database?", shown, FormatSize(maxDBBytes))
	}
	return shown, nil
}

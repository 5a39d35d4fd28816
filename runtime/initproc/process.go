package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"llcr/runtime/errs"
)

// execProcess turns init into the user's process. The order follows runc and
// crun: rlimits; bounding set, then the uid/gid switch with KEEPCAPS, then the
// remaining capability sets; no_new_privs; cwd checked to be inside the
// container; every fd above 2 marked close-on-exec; exec. beforeExec, when
// set, runs last of all (the wait for `start`), so that everything that
// can fail has failed before the container counts as created.
func execProcess(p *specs.Process, beforeExec func() error) error {
	if err := setRlimits(p.Rlimits); err != nil {
		return err
	}
	if p.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(fmt.Sprint(*p.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("set oom_score_adj %d: %w", *p.OOMScoreAdj, err)
		}
	}
	if p.IOPriority != nil {
		if err := setIOPriority(p.IOPriority); err != nil {
			return err
		}
	}
	if p.Scheduler != nil {
		if err := setScheduler(p.Scheduler); err != nil {
			return err
		}
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	// Like docker and runc, a missing working directory is created (as
	// root, before the switch to the user).
	if err := os.MkdirAll(cwd, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create working directory %s: %w", cwd, err)
	}
	caps, err := newCapabilities(p.Capabilities)
	if err != nil {
		return err
	}
	if err := caps.dropBounding(); err != nil {
		return err
	}
	if err := switchUser(p.User); err != nil {
		return err
	}
	if err := caps.apply(); err != nil {
		return err
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	umask := 0o022
	if p.User.Umask != nil {
		umask = int(*p.User.Umask)
	}
	unix.Umask(umask)
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("change to working directory %s as uid %d: %w", cwd, p.User.UID, err)
	}
	// A cwd that escaped the root (a leaked host fd as /proc/self/fd/N,
	// CVE-2024-21626) shows as unreachable.
	if wd, err := os.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("working directory %s is outside the container", cwd)
	}
	if len(p.Args) == 0 {
		return errors.New("no command to run: process.args is empty")
	}
	path, err := lookPath(p.Args[0], envValue(p.Env, "PATH"))
	if err != nil {
		return err
	}
	if err := applyLSM(p); err != nil {
		return err
	}
	if beforeExec != nil {
		if err := beforeExec(); err != nil {
			return err
		}
	}
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	err = unix.Exec(path, p.Args, p.Env)
	return execError(p.Args[0], err)
}

func switchUser(u specs.User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil {
		return fmt.Errorf("set supplementary groups %v: %w", u.AdditionalGids, err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("set gid %d: %w", u.GID, err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("set uid %d: %w", u.UID, err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
	}
	return nil
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// lookPath finds the command with the container's PATH, not the runtime's.
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", execError(file, err)
		}
		return file, nil
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	var denied error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, unix.EACCES) && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", execError(file, denied)
	}
	return "", errs.WithCode(errs.NotFound, fmt.Errorf("command %q not found in the container's PATH (%s)", file, path))
}

func executable(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR
	}
	return unix.Access(p, unix.X_OK)
}

func execError(file string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return errs.WithCode(errs.NotFound, fmt.Errorf("command %q not found in the container", file))
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EISDIR), errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.EPERM):
		return errs.WithCode(errs.CannotExec, fmt.Errorf("cannot execute %q in the container: %w", file, err))
	}
	return errs.WithCode(errs.CannotExec, fmt.Errorf("exec %q in the container: %w", file, err))
}

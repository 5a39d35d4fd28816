package veth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// DefaultLockDir holds the lock files that serialise changes to state shared
// between concurrent plugin invocations (a bridge, a network's masquerade
// chain). It is on tmpfs, so stale files vanish at reboot; the locks
// themselves are flock(2)s, released by the kernel when a plugin dies. It is
// not under /run/llcr, which is llcr's default container store: a directory
// there would be listed as a container.
const DefaultLockDir = "/run/llcr-veth/locks"

// lockDirEnv overrides DefaultLockDir, so tests can keep their lock files
// out of /run.
const lockDirEnv = "LLCR_CNI_LOCK_DIR"

func lockDir() string {
	if d := os.Getenv(lockDirEnv); d != "" {
		return d
	}
	return DefaultLockDir
}

// withLock runs fn holding an exclusive lock on name. Lock files are never
// removed: unlinking a lock file someone else is waiting on would let a third
// process lock a fresh inode and run concurrently with the waiter.
func withLock(name string, fn func() error) error {
	dir := lockDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create lock directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open lock %s: %w", path, err)
	}
	defer f.Close()
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	// Closing the file drops the lock; no explicit LOCK_UN needed.
	return fn()
}

package cni

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/containernetworking/cni/pkg/utils"
	"golang.org/x/sys/unix"
)

// Lock files live in two directories so a container id can never name the
// same file as a network ("net-x" is a valid container id).
func (m *Manager) containerLockPath(id string) string {
	return filepath.Join(m.cacheDir, "locks", "containers", id)
}

func (m *Manager) networkLockPath(name string) string {
	return filepath.Join(m.cacheDir, "locks", "networks", name)
}

// Lock serialises CNI operations on one container across llcr processes:
// a `container rm` racing the container's own exit must not run DEL twice
// at once, or ADD and DEL interleaved. Hold it around Attach/Detach for the
// container; the Manager does not take it itself, because the caller's
// critical section (all networks of a start, say) is wider than one call
// and flock would deadlock against a second lock in the same process.
func (m *Manager) Lock(id string) (unlock func(), err error) {
	if e := utils.ValidateContainerID(id); e != nil {
		return nil, fmt.Errorf("lock container %q: %w", id, e)
	}
	return flockPath(m.containerLockPath(id), unix.LOCK_EX)
}

// LockNetworkShared is held by Attach and Detach: any number of
// containers may join or leave a network at once...
func (m *Manager) LockNetworkShared(name string) (unlock func(), err error) {
	if e := utils.ValidateNetworkName(name); e != nil {
		return nil, fmt.Errorf("lock network %q: %w", name, e)
	}
	return flockPath(m.networkLockPath(name), unix.LOCK_SH)
}

// LockNetworkExclusive is held by GC: ...but GC must see a stable set of
// attachments, or it would free the address of one being added right now.
func (m *Manager) LockNetworkExclusive(name string) (unlock func(), err error) {
	if e := utils.ValidateNetworkName(name); e != nil {
		return nil, fmt.Errorf("lock network %q: %w", name, e)
	}
	return flockPath(m.networkLockPath(name), unix.LOCK_EX)
}

// ForgetContainer deletes the container's lock file once the container is
// gone for good, so lock files do not pile up one per container ever run.
// It is safe against a concurrent Lock: see flockPath.
func (m *Manager) ForgetContainer(id string) error {
	unlock, err := m.Lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(m.containerLockPath(id)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove lock of container %q: %w", id, err)
	}
	return nil
}

// flockPath opens (creating) path and flocks it. Because a lock file may be
// unlinked by ForgetContainer while another process waits on it, the lock
// only counts if the path still names the locked inode afterwards;
// otherwise it starts over on the new file.
func flockPath(path string, how int) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create lock dir: %w", err)
	}
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open lock %s: %w", path, err)
		}
		for {
			err = unix.Flock(fd, how)
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var held, now unix.Stat_t
		if unix.Fstat(fd, &held) == nil && unix.Stat(path, &now) == nil &&
			held.Ino == now.Ino && held.Dev == now.Dev {
			var once sync.Once
			return func() { once.Do(func() { unix.Close(fd) }) }, nil
		}
		unix.Close(fd)
	}
}

// LockPortmap serialises the use of portmap's host-wide chains
// (CNI-HOSTPORT-*): ADDs that publish ports hold it shared, and the removal
// of those chains once unused holds it exclusive, so a chain is never
// deleted under an ADD that is about to jump to it.
func (m *Manager) LockPortmap(exclusive bool) (unlock func(), err error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	return flockPath(filepath.Join(m.cacheDir, "locks", "portmap"), how)
}

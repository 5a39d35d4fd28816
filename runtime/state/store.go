package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// Store is the directory holding all containers' state directories.
type Store struct{ Root string }

// Dir is the state directory of id. The id must have been validated.
func (s Store) Dir(id string) string { return filepath.Join(s.Root, id) }

// Create reserves id by making its directory: mkdir is atomic, so two
// runtimes racing for one id cannot both win.
func (s Store) Create(id string) (string, error) {
	if err := os.MkdirAll(s.Root, 0o711); err != nil {
		return "", fmt.Errorf("create state root %s: %w", s.Root, err)
	}
	dir := s.Dir(id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("container %q already exists: choose another --name, or remove it with `container delete -f %s`", id, id)
		}
		return "", fmt.Errorf("create state directory %s: %w", dir, err)
	}
	return dir, nil
}

// Load reads id's state, with ErrNotExist for an unknown id and ErrNoState
// for a directory without state.json.
func (s Store) Load(id string) (*State, error) {
	st, err := Read(s.Dir(id))
	if errors.Is(err, os.ErrNotExist) {
		// The directory is made before the start and state.json only once
		// the container runs: a runtime killed in between leaves the first
		// alone, and "no such container" would hide it from the user.
		if _, serr := os.Stat(s.Dir(id)); serr == nil {
			return nil, fmt.Errorf("container %q has no state yet: it is being created, or its start was killed (`container delete -f %s` removes it): %w", id, id, ErrNoState)
		}
		return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
	}
	return st, err
}

// IDs lists the ids that have a state directory, sorted.
func (s Store) IDs() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.Root, err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && e.Name()[0] != '.' {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Lock takes an exclusive flock on id's state directory, serialising
// operations that change one container (state writes, kill, delete). It
// returns the unlock function.
func (s Store) Lock(id string) (func(), error) {
	dir := s.Dir(id)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("open state directory %s: %w", dir, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock state directory %s: %w", dir, err)
	}
	return func() { unix.Close(fd) }, nil
}

// Remove deletes id's state directory and everything in it.
func (s Store) Remove(id string) error {
	if err := os.RemoveAll(s.Dir(id)); err != nil {
		return fmt.Errorf("remove state directory of %s: %w", id, err)
	}
	return nil
}

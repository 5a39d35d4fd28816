package spec

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"sync"
)

// The ID names directories under /run and cgroups, so it must never be able
// to climb out of them or collide with path syntax.
// Compiled on first use: a regexp compiled at package init costs every
// process start, the init included, whether or not it validates anything.
var idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

const idRule = "a container id is 1 to 64 characters: letters, digits, '_', '.' and '-', starting with a letter or digit"

// ValidateID refuses IDs that are unsafe as path components or too long.
func ValidateID(id string) error {
	if !idRE().MatchString(id) {
		return invalid("container id", id, idRule)
	}
	return nil
}

// GenerateID returns 12 random lowercase hex characters, docker's short-ID
// length: enough that collisions among local containers are not a concern.
func GenerateID() string {
	var b [6]byte
	// crypto/rand.Read never fails on Linux (it aborts the program
	// instead), so there is no error to handle.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

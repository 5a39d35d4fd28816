package cni

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// acquired reports whether lock succeeds within a short wait, releasing it
// at test end if it does eventually succeed.
func acquired(t *testing.T, lock func() (func(), error)) bool {
	t.Helper()
	done := make(chan func(), 1)
	go func() {
		u, err := lock()
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		done <- u
	}()
	select {
	case u := <-done:
		u()
		return true
	case <-time.After(200 * time.Millisecond):
		t.Cleanup(func() { (<-done)() })
		return false
	}
}

func TestLocks(t *testing.T) {
	m := New([]string{"/nonexistent"}, t.TempDir())

	unlock, err := m.Lock("ctr1")
	if err != nil {
		t.Fatal(err)
	}
	if acquired(t, func() (func(), error) { return m.Lock("ctr1") }) {
		t.Error("a container lock was taken twice")
	}
	if !acquired(t, func() (func(), error) { return m.Lock("ctr2") }) {
		t.Error("another container's lock is blocked")
	}
	unlock()
	unlock() // idempotent

	sh, err := m.LockNetworkShared("net")
	if err != nil {
		t.Fatal(err)
	}
	if !acquired(t, func() (func(), error) { return m.LockNetworkShared("net") }) {
		t.Error("shared network locks exclude each other")
	}
	if acquired(t, func() (func(), error) { return m.LockNetworkExclusive("net") }) {
		t.Error("the exclusive network lock was taken while a shared one is held")
	}
	sh()

	// The container lock files live apart from the network ones.
	if _, err := m.Lock("net-x"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock("../x"); err == nil {
		t.Error("a path-like container id was accepted")
	}

	if err := m.ForgetContainer("ctr2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(m.CacheDir(), "locks", "containers", "ctr2")); !os.IsNotExist(err) {
		t.Errorf("lock file of a forgotten container remains: %v", err)
	}
}

func TestDefaultPluginDirs(t *testing.T) {
	t.Setenv("CNI_PATH", "/a::/b")
	if got := DefaultPluginDirs(); !slices.Equal(got, []string{"/a", "/b"}) {
		t.Errorf("with CNI_PATH: %v", got)
	}
	t.Setenv("CNI_PATH", "")
	exe, _ := os.Executable()
	want := []string{filepath.Join(filepath.Dir(exe), "cni"), "/usr/libexec/llcr/cni", "/opt/cni/bin"}
	if got := DefaultPluginDirs(); !slices.Equal(got, want) {
		t.Errorf("without CNI_PATH: %v, want %v", got, want)
	}
	m := New(nil, "")
	if m.CacheDir() != DefaultCacheDir || !slices.Equal(m.PluginDirs(), want) {
		t.Errorf("New(nil, \"\") = %v %s", m.PluginDirs(), m.CacheDir())
	}
}

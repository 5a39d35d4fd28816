package netns

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCreatePinRemove(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root")
	}
	// Compare with this thread's namespace: /proc/self names the main
	// thread, which may be the one Create threw away into the new namespace.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var self unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c1")
	if err := Create(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(p) })
	var pin unix.Stat_t
	if err := unix.Stat(p, &pin); err != nil {
		t.Fatal(err)
	}
	if pin.Ino == self.Ino {
		t.Fatal("pinned namespace is the caller's own")
	}
	// The caller's thread must not have moved.
	var after unix.Stat_t
	unix.Stat("/proc/thread-self/ns/net", &after)
	if after.Ino != self.Ino {
		t.Fatal("Create changed the calling thread's network namespace")
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if !strings.Contains(string(mi), p) {
		t.Fatal("pin is not a mount")
	}
	if err := Create(p); err == nil {
		t.Fatal("second Create on the same pin succeeded")
	}
	if err := Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := Remove(p); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("pin file still there: %v", err)
	}
	mi, _ = os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), p) {
		t.Fatal("pin mount still there")
	}
}

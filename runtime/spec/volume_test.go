package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseVolume(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in       string
		src, dst string
		opts     []string
	}{
		{dir + ":/data", dir, "/data", []string{"rbind", "rprivate"}},
		{dir + ":/data:rw", dir, "/data", []string{"rbind", "rprivate"}},
		{dir + ":/data:ro", dir, "/data", []string{"rbind", "rprivate", "ro"}},
		{dir + "/:/data/../x/", dir, "/x", []string{"rbind", "rprivate"}},
		{file + ":/etc/file:ro", file, "/etc/file", []string{"rbind", "rprivate", "ro"}},
	}
	for _, tt := range tests {
		m, err := ParseVolume(tt.in)
		if err != nil {
			t.Errorf("ParseVolume(%q): %v", tt.in, err)
			continue
		}
		if m.Source != tt.src || m.Destination != tt.dst || m.Type != "bind" || !reflect.DeepEqual(m.Options, tt.opts) {
			t.Errorf("ParseVolume(%q) = %+v, want source %s dest %s type bind options %v", tt.in, m, tt.src, tt.dst, tt.opts)
		}
	}
}

func TestParseVolumeRelativeHost(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	m, err := ParseVolume("./data:/data")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "data"); m.Source != want {
		t.Errorf("Source = %q, want %q (absolute)", m.Source, want)
	}
}

func TestParseVolumeErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	tests := []struct{ in, msg string }{
		{"", "want HOST_PATH:CONTAINER_PATH"},
		{dir, "want HOST_PATH:CONTAINER_PATH"},
		{":/data", "want HOST_PATH:CONTAINER_PATH"},
		{dir + ":", "want HOST_PATH:CONTAINER_PATH"},
		{dir + ":/a:ro:x", "want HOST_PATH:CONTAINER_PATH"},
		{dir + ":/a:rx", `mode "rx" is neither ro nor rw`},
		{dir + ":/a:", `mode "" is neither ro nor rw`},
		{dir + ":data", `container path "data" must be absolute, e.g. /data`},
		{dir + ":/", "cannot mount over the container's root"},
		{dir + ":/..", "cannot mount over the container's root"},
		{missing + ":/data", "volume source " + missing + " does not exist: create it"},
	}
	for _, tt := range tests {
		_, err := ParseVolume(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseVolume(%q) error = %v, want one containing %q", tt.in, err, tt.msg)
		}
	}
}

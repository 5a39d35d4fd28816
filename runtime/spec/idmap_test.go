package spec

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseIDMap(t *testing.T) {
	tests := []struct {
		in   string
		want specs.LinuxIDMapping
	}{
		{"0:100000:65536", specs.LinuxIDMapping{ContainerID: 0, HostID: 100000, Size: 65536}},
		{"1000:1000:1", specs.LinuxIDMapping{ContainerID: 1000, HostID: 1000, Size: 1}},
		{"0:0:4294967295", specs.LinuxIDMapping{ContainerID: 0, HostID: 0, Size: 4294967295}},
		{"4294967294:0:1", specs.LinuxIDMapping{ContainerID: 4294967294, HostID: 0, Size: 1}},
	}
	for _, tt := range tests {
		got, err := ParseIDMap(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseIDMap(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseIDMapErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "CONTAINER_ID:HOST_ID:SIZE"},
		{"0:100000", "CONTAINER_ID:HOST_ID:SIZE"},
		{"0:100000:65536:1", "CONTAINER_ID:HOST_ID:SIZE"},
		{"a:b:c", "each field a number"},
		{"0:100000:", "each field a number"},
		{"-1:0:1", "each field a number"},
		{"+1:0:1", "each field a number"},
		{"0:0:4294967296", "each field a number"},
		{"0:100000:0", "SIZE must be at least 1"},
		{"1:0:4294967295", "runs past"},
		{"0:4294967295:2", "runs past"},
		{"4294967295:0:1", "runs past"},
		{"0:1:4294967295", "runs past"},
	}
	for _, tt := range tests {
		_, err := ParseIDMap(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseIDMap(%q) error = %v, want one containing %q", tt.in, err, tt.msg)
		}
	}
}

func TestParseIDMapsOverlap(t *testing.T) {
	tests := []struct {
		in  []string
		msg string // "" = no error
	}{
		{[]string{"0:100000:1000", "1000:200000:1000"}, ""},
		{[]string{"0:100000:1000", "999:200000:1"}, "overlaps 0:100000:1000 in the container ids"},
		{[]string{"0:100000:1000", "5000:100500:10"}, "in the host ids"},
		{[]string{"0:100000:1000", "bad"}, `invalid --uid-map "bad"`},
	}
	for _, tt := range tests {
		got, err := parseIDMaps("--uid-map", tt.in)
		if tt.msg == "" {
			if err != nil || len(got) != len(tt.in) {
				t.Errorf("parseIDMaps(%q) = %v, %v", tt.in, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("parseIDMaps(%q) error = %v, want one containing %q", tt.in, err, tt.msg)
		}
	}
}

func TestMapped(t *testing.T) {
	ms := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}, {ContainerID: 1000, HostID: 5000, Size: 1}}
	for id, want := range map[uint32]bool{0: true, 9: true, 10: false, 999: false, 1000: true, 1001: false} {
		if got := mapped(id, ms); got != want {
			t.Errorf("mapped(%d) = %v, want %v", id, got, want)
		}
	}
	if !mapped(4294967294, []specs.LinuxIDMapping{{ContainerID: 4294967294, Size: 1}}) {
		t.Error("the top id must be mappable without overflow")
	}
}

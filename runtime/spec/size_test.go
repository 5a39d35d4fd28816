package spec

import (
	"math"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"100000", 100000},
		{"1", 1},
		{"100B", 100},
		{"100b", 100},
		{"1K", 1024},
		{"1k", 1024},
		{"1KB", 1024},
		{"1KiB", 1024},
		{"1kib", 1024},
		{"64m", 64 << 20},
		{"512M", 512 << 20},
		{"512MiB", 512 << 20},
		{"1G", 1 << 30},
		{"1g", 1 << 30},
		{"1.5G", 1536 << 20},
		{"1.5GiB", 1536 << 20},
		{"0.5K", 512},
		{"1.1G", 1181116006}, // 1.1 * 2^30 = 1181116006.4, rounded down
		{"2T", 2 << 40},
		{"007M", 7 << 20},
		{"8388607T", 8388607 << 40}, // largest whole number of TiB in an int64
		{"9223372036854775807", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil {
			t.Errorf("ParseSize(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseSizeErrors(t *testing.T) {
	tests := []struct {
		in, msg string
	}{
		{"", "want a size such as 512M"},
		{"0", "more than zero"},
		{"0M", "more than zero"},
		{"0.0001K", "more than zero"},
		{"-1", "want a size"},
		{"-1G", "want a size"},
		{"1X", "want a size"},
		{"abc", "want a size"},
		{"1.5.5G", "want a size"},
		{".5G", "want a size"},
		{"5.G", "want a size"},
		{"1 G", "want a size"},
		{" 1G", "want a size"},
		{"5iB", "want a size"},
		{"1GG", "want a size"},
		{"1P", "want a size"},
		{"8388608T", "too large"},
		{"9223372036854775808", "too large"},
		{"99999999999999999999999999G", "too large"},
	}
	for _, tt := range tests {
		_, err := ParseSize(tt.in)
		if err == nil {
			t.Errorf("ParseSize(%q) succeeded, want error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
			t.Errorf("ParseSize(%q) error %q, want it to quote the input and contain %q", tt.in, err, tt.msg)
		}
	}
}

func TestParseSizeErrorMessage(t *testing.T) {
	_, err := ParseSize("1X")
	want := `invalid size "1X": want a size such as 512M, 1G, 1.5G or a plain number of bytes`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1000, "1000B"},
		{1023, "1023B"},
		{1024, "1KiB"},
		{1025, "1025B"}, // not exact in KiB with two decimals
		{1536, "1.5KiB"},
		{1280, "1.25KiB"},
		{6 << 20, "6MiB"},
		{67108864, "64MiB"},
		{1073741824, "1GiB"},
		{1610612736, "1.5GiB"},
		{1181116006, "1181116006B"},
		{3 << 40, "3TiB"},
		{5 << 50, "5120TiB"},
		{-1024, "-1KiB"},
		{math.MinInt64, "-9223372036854775808B"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// What FormatSize prints must parse back to the same value, since users
// copy sizes from messages into flags.
func TestFormatSizeRoundTrip(t *testing.T) {
	for _, n := range []int64{1, 1000, 1024, 1536, 1280, 67108864, 1610612736, 1181116006, 3 << 40, 1<<40 + 1<<38, math.MaxInt64} {
		s := FormatSize(n)
		got, err := ParseSize(s)
		if err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}

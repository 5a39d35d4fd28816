package spec

import (
	"regexp"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	long64 := "a" + strings.Repeat("b", 63)
	tests := []struct {
		id string
		ok bool
	}{
		{"a", true},
		{"0", true},
		{"my-container_1.test", true},
		{"ABC", true},
		{long64, true},
		{long64 + "c", false}, // 65 characters
		{"", false},
		{"../x", false},
		{"..", false},
		{".hidden", false},
		{"-flag", false},
		{"_x", false},
		{"a/b", false},
		{"a b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"é", false},
		{"a:b", false},
	}
	for _, tt := range tests {
		err := ValidateID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "1 to 64 characters") {
			t.Errorf("ValidateID(%q) error %q does not state the rule", tt.id, err)
		}
	}
}

func TestGenerateID(t *testing.T) {
	hex12 := regexp.MustCompile(`^[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := GenerateID()
		if !hex12.MatchString(id) {
			t.Fatalf("GenerateID() = %q, want 12 lowercase hex characters", id)
		}
		if err := ValidateID(id); err != nil {
			t.Fatalf("generated id %q is not valid: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("GenerateID() repeated %q", id)
		}
		seen[id] = true
	}
}

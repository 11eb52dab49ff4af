package linking

import (
	"strings"
	"testing"
)

func TestRandomIDs(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 1000 {
		id, err := randomID()
		if err != nil {
			t.Fatal(err)
		}
		if !validID(id) {
			t.Fatalf("randomID %q is not a valid id", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	if idLen*6 < 256 {
		t.Errorf("ids carry %d bits, want >= 256", idLen*6)
	}
}

func TestValidIDRejectsGarbage(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("A", idLen)
	for _, s := range []string{"", "abc", good + "A", good[:idLen-1] + "=", good[:idLen-1] + "/", good[:idLen-1] + "é"[:1],
		strings.Repeat("x", 1<<16), "../../../../../../etc/passwd"} {
		if validID(s) {
			t.Errorf("validID(%q) = true", s[:min(len(s), 60)])
		}
	}
	if !validID(good) || !validID(strings.Repeat("-_", idLen/2)+"z") {
		t.Error("validID rejects a well-formed id")
	}
	if h := shortHash("secret"); len(h) != 8 || strings.Contains(h, "secret") {
		t.Errorf("shortHash = %q", h)
	}
}

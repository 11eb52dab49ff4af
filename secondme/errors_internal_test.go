package secondme

import (
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"no secrets here", nil, "no secrets here"},
		{"at lba_at_AbC-12.x_y~z/+= end", nil, "at lba_at_[REDACTED] end"},
		{"lba_rt_1 lba_ac_2 lba_ak_3", nil, "lba_rt_[REDACTED] lba_ac_[REDACTED] lba_ak_[REDACTED]"},
		{"key sk-abcd1234 and desk-top and task-list", nil, "key sk-[REDACTED] and desk-top and task-list"},
		{"state=xyzstate1 secret=s3cr3t", []string{"xyzstate1", "s3cr3t", ""}, "state=[REDACTED] secret=[REDACTED]"},
		{"short abc stays", []string{"abc"}, "short abc stays"},
		// Echoed form bodies: values percent-encoded as they were sent.
		{"client_secret=a%2Bb%2Fc%3D%3D&x=1", []string{"a+b/c=="}, "client_secret=[REDACTED]&x=1"},
		{"refresh_token=lba_rt_Ab%2Bc%2F9%3D&x=1", nil, "refresh_token=lba_rt_[REDACTED]&x=1"},
	}
	for _, tc := range tests {
		if got := redact(tc.in, tc.secrets...); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		" 120 ":                         2 * time.Minute,
		"-3":                            0,
		"0":                             0,
		"99999999":                      7 * 24 * time.Hour,
		"soon":                          0,
		"Fri, 01 May 2026 12:00:30 GMT": 30 * time.Second,
		"Fri, 01 May 2026 11:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestScopeIn(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"missing scope: chat.write":           "chat.write",
		"缺少 user.info.shades 权限":              "user.info.shades",
		"缺少 user.info 权限.":                    "user.info",
		"requires chat":                       "chat",
		"requires chatter":                    "",
		"scope memory.read or userinfo":       "memory.read",
		"Permission denied for this resource": "",
	}
	for in, want := range tests {
		if got := scopeIn(in); got != want {
			t.Errorf("scopeIn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'a'
	}
	if got := snippet(long); len(got) != 256 {
		t.Errorf("snippet length %d", len(got))
	}
	if got := snippet([]byte("a\n\tb  \xffc")); got != "a b ?c" {
		t.Errorf("snippet = %q", got)
	}
	// A multi-byte rune cut at the limit is dropped, not mangled; one that
	// fits is kept.
	a255 := strings.Repeat("a", 255)
	if got := snippet([]byte(a255 + "é")); got != a255 {
		t.Errorf("snippet cut a rune: %q", got)
	}
	if got := snippet([]byte(a255[1:] + "é" + "zz")); got != a255[1:]+"é" {
		t.Errorf("snippet dropped a whole rune: %q", got)
	}
	if got := snippet([]byte(a255[1:] + "€")); got != a255[1:] {
		t.Errorf("snippet cut a 3-byte rune: %q", got)
	}
	// Invalid bytes before the limit become "?" and do not eat the rest.
	if got := snippet([]byte("\xff" + strings.Repeat("b", 300))); got != "?"+strings.Repeat("b", 255) {
		t.Errorf("snippet with early invalid byte = %q", got)
	}
}

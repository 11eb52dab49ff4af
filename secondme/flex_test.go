package secondme

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFlexInt(t *testing.T) {
	t.Parallel()
	tests := map[string]flexInt{
		`5`: {5, true}, `-3`: {-3, true}, `85.7`: {85, true}, `"42"`: {42, true}, `" 7 "`: {7, true},
		`null`: {}, `""`: {}, `"abc"`: {}, `1e400`: {}, `12345678901234`: {12345678901234, true},
	}
	for in, want := range tests {
		var got flexInt
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("flexInt(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestFlexString(t *testing.T) {
	t.Parallel()
	tests := map[string]string{`"a"`: "a", `12345678901`: "12345678901", `true`: "true", `null`: "", `{"a":1}`: `{"a":1}`}
	for in, want := range tests {
		var got flexString
		if err := json.Unmarshal([]byte(in), &got); err != nil || got.V != want {
			t.Errorf("flexString(%s) = %q, %v; want %q", in, got.V, err, want)
		}
	}
}

func TestFlexStrings(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		`["a","b"]`:        {"a", "b"},
		`"user.info chat"`: {"user.info", "chat"},
		`"a,b, c"`:         {"a", "b", "c"},
		`null`:             nil,
		`["x",null,1]`:     {"x", "1"},
	}
	for in, want := range tests {
		var got flexStrings
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("flexStrings(%s): %v", in, err)
			continue
		}
		if diff := cmp.Diff(want, []string(got)); diff != "" {
			t.Errorf("flexStrings(%s) (-want +got):\n%s", in, diff)
		}
	}
}

func TestParseFlexTime(t *testing.T) {
	t.Parallel()
	ref := time.Date(2024, 1, 20, 15, 30, 0, 0, time.UTC)
	tests := map[string]time.Time{
		"1705764600000":                 ref,
		"1705764600":                    ref,
		"1705764600000.0":               ref,
		"2024-01-20T15:30:00Z":          ref,
		"2024-01-20T15:30:00.000+00:00": ref,
		"2024-01-20T16:30:00+01:00":     ref,
		"2024-01-20T15:30:00":           ref,
		"2024-01-20 15:30:00":           ref,
		"2024-01-20 15:30:00Z":          ref,
		"2024-01-20T15:30Z":             ref,
		"2024-01-20":                    time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC),
		"":                              {},
		"0":                             {},
		"-5":                            {},
		"garbage":                       {},
	}
	for in, want := range tests {
		if got := parseFlexTime(in); !got.Equal(want) {
			t.Errorf("parseFlexTime(%q) = %v, want %v", in, got, want)
		}
	}
	var ft flexTime
	if err := json.Unmarshal([]byte(`{"bad":1}`), &ft); err != nil || !ft.V.IsZero() {
		t.Errorf("object time: %v %v", ft.V, err)
	}
}

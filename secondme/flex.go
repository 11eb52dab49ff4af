package secondme

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// flexInt decodes a JSON number (integer or float), a numeric string, or
// null. Set reports whether a non-null value was present.
type flexInt struct {
	V   int64
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
		if len(b) == 0 {
			return nil
		}
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		f.V, f.Set = n, true
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return nil // tolerate: treat an unusable value as absent
	}
	if x > math.MaxInt64 || x < math.MinInt64 {
		return nil
	}
	f.V, f.Set = int64(x), true
	return nil
}

// flexString decodes a JSON string, a number (kept as its literal text), a
// bool, or null. Objects and arrays are kept as compact JSON text.
type flexString struct{ V string }

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		return json.Unmarshal(b, &f.V)
	default:
		f.V = string(b)
		return nil
	}
}

// flexStrings decodes an array of strings or one string of names separated
// by spaces or commas (as OAuth "scope" sometimes is).
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '[' {
		var raw []flexString
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make([]string, 0, len(raw))
		for _, r := range raw {
			if r.V != "" {
				out = append(out, r.V)
			}
		}
		*f = out
		return nil
	}
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = strings.FieldsFunc(s.V, func(r rune) bool { return r == ' ' || r == ',' })
	return nil
}

// flexTime decodes a time as ms since the epoch (number or numeric string;
// values below 1e11 are taken as seconds), an ISO 8601 / RFC 3339 string
// with or without zone (UTC assumed), or "YYYY-MM-DD hh:mm:ss". Empty, null
// and unparseable values give the zero time.
type flexTime struct{ V time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
}

func (f *flexTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return nil
	}
	f.V = parseFlexTime(strings.TrimSpace(s.V))
	return nil
}

func parseFlexTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) || n > 1e16 {
			return time.Time{}
		}
		if n < 1e11 {
			return time.UnixMilli(int64(n * 1000)).UTC()
		}
		return time.UnixMilli(int64(n)).UTC()
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

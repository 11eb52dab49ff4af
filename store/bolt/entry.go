package bolt

import (
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// entry is the value of a key with a TTL. bbolt has no expiry, so the
// deadline travels with the value: reads treat an entry at or past Exp as
// absent, and the sweeper deletes it later.
type entry struct {
	Exp int64           `json:"exp"` // unix nanoseconds
	V   json.RawMessage `json:"v"`
}

// getLive decodes the live entry of key in b into v. It reports false when
// the key is absent or expired at now.
func getLive(b *bbolt.Bucket, key string, now time.Time, v any) (bool, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return false, fmt.Errorf("decode entry: %w", err)
	}
	if expired(e.Exp, now) {
		return false, nil
	}
	if v == nil {
		return true, nil
	}
	if err := json.Unmarshal(e.V, v); err != nil {
		return false, fmt.Errorf("decode entry: %w", err)
	}
	return true, nil
}

// putExpiring stores v under key in b until exp.
func putExpiring(b *bbolt.Bucket, key string, v any, exp time.Time) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode entry: %w", err)
	}
	raw, err := json.Marshal(entry{Exp: exp.UnixNano(), V: data})
	if err != nil {
		return fmt.Errorf("encode entry: %w", err)
	}
	return b.Put([]byte(key), raw)
}

func expired(exp int64, now time.Time) bool { return exp != 0 && now.UnixNano() >= exp }

// addSat returns t+d, capped a century ahead so UnixNano never overflows.
func addSat(t time.Time, d time.Duration) time.Time {
	const century = 100 * 365 * 24 * time.Hour
	return t.Add(min(d, century))
}

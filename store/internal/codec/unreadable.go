package codec

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
)

// maxUnreadableSeen bounds the records an Unreadable remembers; past it,
// it forgets them all and may warn about each once more.
const maxUnreadableSeen = 10000

// Unreadable logs the records that no configured key can open (written
// under a key that is no longer configured, or tampered with): one
// warning per record (per distinct stored bytes, in this process), so a
// user chatting with an unreadable link does not log a line per message.
// The backends treat such a record as absent. Safe for concurrent use.
type Unreadable struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen map[[sha256.Size]byte]struct{}
}

// NewUnreadable returns an Unreadable that warns on log.
func NewUnreadable(log *slog.Logger) *Unreadable {
	return &Unreadable{log: log, seen: map[[sha256.Size]byte]struct{}{}}
}

// Warn logs, the first time these bytes are seen, that the record of kind
// ("link", "state", "reply") named name (never a secret: a user key, a
// short hash) could not be opened and is treated as described by what.
func (u *Unreadable) Warn(ctx context.Context, kind, name, what string, data []byte) {
	sum := sha256.Sum256(append([]byte(kind+"\x00"+name+"\x00"), data...))
	u.mu.Lock()
	_, dup := u.seen[sum]
	if !dup {
		if len(u.seen) >= maxUnreadableSeen {
			clear(u.seen)
		}
		u.seen[sum] = struct{}{}
	}
	u.mu.Unlock()
	if dup {
		return
	}
	u.log.WarnContext(ctx, "stored record cannot be opened with any configured encryption key (store.encryption_key changed without store.previous_encryption_keys, or the record was tampered with)",
		"record", kind, "name", name, "treated_as", what)
}

package codec

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/secondme-bridge/secondme-bridge/store"
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

// Link decodes the link stored under key into *l (as DecodeLink). One
// that no configured key opens is warned about (once) and reported absent:
// the error wraps both store.ErrNotFound and store.ErrUnseal.
func (u *Unreadable) Link(ctx context.Context, l *store.Link, s *store.Sealer, key store.UserKey, data []byte) error {
	err := DecodeLink(l, s, key, data)
	if errors.Is(err, store.ErrUnseal) {
		u.Warn(ctx, "link", User(key), "not linked", data)
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// State decodes a stored pending link named name (a keyed hash). A handle
// that no key opens is dropped and warned about once.
func (u *Unreadable) State(ctx context.Context, s *store.Sealer, name string, data []byte) (store.PendingLink, error) {
	p, _, err := DecodeState(s, data)
	if errors.Is(err, store.ErrUnseal) {
		u.Warn(ctx, "state", name[:min(8, len(name))], "pending link without its interaction handle", data)
		return p, nil
	}
	return p, err
}

// Reply decodes a stored in-flight reply named id. Handles that no key
// opens are dropped and warned about once.
func (u *Unreadable) Reply(ctx context.Context, s *store.Sealer, id string, data []byte) (store.InflightReply, error) {
	r, _, err := DecodeReply(s, data)
	if errors.Is(err, store.ErrUnseal) {
		u.Warn(ctx, "reply", id, "in-flight reply without its interaction handles", data)
		return r, nil
	}
	return r, err
}

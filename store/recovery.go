package store

import (
	"context"
	"time"
)

// Crash recovery: who is alive, and what was admitted but not answered.
//
// Every bridge process beats its liveness record (Liveness.Beat) every few
// seconds with a short TTL; a lease, in-flight reply or inbox entry whose
// owner has no live record belongs to a dead process and is taken over by a
// live one at once. Every admitted chat message is written to its
// conversation's inbox in the same atomic step as its dedupe claim
// (Turns.Enter) and removed when its turn finishes (Turns.Finish), so a
// crash loses none.

// Liveness records which bridge processes are alive.
type Liveness interface {
	// Beat creates or refreshes owner's liveness record, which expires ttl
	// after the call (ttl > 0).
	Beat(ctx context.Context, owner string, ttl time.Duration) error
	// Alive returns the owners whose record has not expired, in no
	// particular order. The bolt backend, whose file one process holds at a
	// time, forgets every record when it opens the file: a record found
	// there is from a dead process.
	Alive(ctx context.Context) ([]string, error)
	// Leave deletes owner's record (a graceful stop), so that live
	// processes take over its inbox at once. An absent record is fine.
	Leave(ctx context.Context, owner string) error
}

// InboxEntry is an admitted chat message waiting for (or getting) its
// answer.
type InboxEntry struct {
	// ID is unique per entry, chosen by the caller; the turn answering the
	// entry uses it as its in-flight reply id, so that Turns.Finish removes
	// both at once.
	ID string
	// Owner is the process whose worker answers the entry.
	Owner        string
	Conversation ConversationKey
	// Seq orders the entries (admission order); assigned by Turns.Enter.
	Seq uint64
	// Item is the caller's encoding of the message, opaque to the store,
	// which seals it at rest (it holds the user's text and may hold an
	// interaction handle).
	Item       []byte
	AdmittedAt time.Time
	// Unreadable is set, and Item nil, when the item cannot be opened
	// (sealed under another encryption key, or altered): the entry is
	// still listed and adopted, so that it can be removed.
	Unreadable bool
}

// Inbox stores admitted messages per conversation (written by Turns.Enter,
// removed by Turns.Finish or Remove).
type Inbox interface {
	// List returns every entry, by Seq.
	List(ctx context.Context) ([]InboxEntry, error)
	// Remove deletes the entry id. Returns ErrNotFound when absent.
	Remove(ctx context.Context, id string) error
	// Adopt atomically gives every entry of owner from to owner to and
	// returns those entries, by Seq. Of concurrent callers adopting from
	// the same owner, each entry goes to exactly one.
	Adopt(ctx context.Context, from, to string) ([]InboxEntry, error)
}

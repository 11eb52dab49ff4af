package store

import (
	"context"
	"time"
)

// MaxCancelIDLen is the longest reply id Cancels accepts, in bytes. Reply
// ids are short random tokens (24 hex digits); the bound keeps a hostile
// id (it arrives in a button's payload) from growing keys without limit.
const MaxCancelIDLen = 64

// Cancels carries a request to stop a streaming reply from the replica that
// received the Stop click to the replica that streams the reply (possibly
// the same one). The streaming replica does not poll: it watches (Watch),
// which costs no store round trip while nobody stops anything; a stop
// reaches it as soon as it is requested. Requested is for catching up
// after a watch (re)starts, when notes may have been missed.
//
// A reply id is 1..MaxCancelIDLen bytes of [A-Za-z0-9._-]; anything else is
// refused with an error (not ErrNotFound), so a forged payload never
// reaches a key.
type Cancels interface {
	// Request records that the reply replyID must stop, for ttl (ttl > 0;
	// the reply's longest life is enough). It returns true for the first
	// request and false for every repeat until the flag expires, so a
	// double click or a duplicated delivery is handled once. Requesting
	// an id no reply has is harmless: no watcher runs it and it
	// expires.
	Request(ctx context.Context, replyID string, ttl time.Duration) (bool, error)
	// Requested reports whether a stop of replyID was requested and has
	// not expired. An unknown id is simply false.
	Requested(ctx context.Context, replyID string) (bool, error)
	// Watch returns a channel receiving the id of every first Request
	// (true) made from now on through any handle on the same data (every
	// replica sharing the store), until ctx is done, when it is closed.
	// Delivery is best effort: a "" on the channel says ids may have been
	// missed (the watch just (re)started: its connection dropped, or the
	// caller fell behind), and the caller checks the replies it runs with
	// Requested. The first value is always "". Watch fails only when the
	// store is closed or the watch cannot start at all.
	Watch(ctx context.Context) (<-chan string, error)
}

package store

import "context"

// RekeyCounts is what a Rekeyer did, counted in sealed records (a link, a
// pending link, an in-flight reply).
type RekeyCounts struct {
	// Resealed records were opened with a previous key (or held a handle
	// in the clear, written by an older version) and are now sealed under
	// the current key.
	Resealed int
	// Current records were already sealed under the current key only.
	Current int
	// Unreadable records no configured key opens (a key that is no longer
	// configured, tampering). They are left as they are: the bridge treats
	// them as absent (an unreadable link is "not linked" until the user
	// links again or unlinks).
	Unreadable int
}

// Rekeyer is implemented by the backends (store/bolt, store/redis): Rekey
// rewrites every sealed record under the Sealer's current key, so that the
// previous keys (store.previous_encryption_keys) can then be dropped.
// It may run while the bridge serves (each record is rewritten atomically,
// and a record written meanwhile is already sealed under the current key);
// one-time ids stored under a previous key's hash stay findable only while
// that key is configured (they expire within minutes). It does disk or
// network I/O proportional to the store's size and honours ctx.
type Rekeyer interface {
	Rekey(ctx context.Context) (RekeyCounts, error)
}

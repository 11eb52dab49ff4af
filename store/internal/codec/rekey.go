package codec

import (
	"errors"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Rekeyed is what rekeying one sealed record found.
type Rekeyed int

// The outcomes of rekeying a record.
const (
	// RekeyCurrent: sealed under the current key only; nothing to write.
	RekeyCurrent Rekeyed = iota
	// RekeyResealed: opened under a previous key (or held a handle in the
	// clear); the new bytes are sealed under the current key.
	RekeyResealed
	// RekeyUnreadable: no configured key opens it; left as it is.
	RekeyUnreadable
	// RekeySkipped: not a live record (expired, awaiting the sweeper);
	// not counted.
	RekeySkipped
)

// Count adds r to c.
func Count(c *store.RekeyCounts, r Rekeyed) {
	switch r {
	case RekeyCurrent:
		c.Current++
	case RekeyResealed:
		c.Resealed++
	case RekeyUnreadable:
		c.Unreadable++
	}
}

// rekey classifies a decode's outcome and, for a record to reseal, encodes
// it again.
func rekey[T any](v T, current bool, err error, encode func(T) ([]byte, error)) ([]byte, Rekeyed, error) {
	switch {
	case errors.Is(err, store.ErrUnseal):
		return nil, RekeyUnreadable, nil
	case err != nil:
		return nil, 0, err
	case current:
		return nil, RekeyCurrent, nil
	}
	data, err := encode(v)
	if err != nil {
		return nil, 0, err
	}
	return data, RekeyResealed, nil
}

// RekeyLink rekeys a link stored under the name name (a User encoding):
// the bytes to store instead when Resealed. A link whose recorded key is
// not the one of its name (copied under another user's) opens for no one:
// RekeyUnreadable.
func RekeyLink(s *store.Sealer, name string, data []byte) ([]byte, Rekeyed, error) {
	key, err := LinkKey(data)
	if err != nil {
		return nil, 0, err
	}
	if name != User(key) {
		return nil, RekeyUnreadable, nil
	}
	current, err := LinkCurrent(s, key, data)
	if err != nil || current {
		return rekey(store.Link{}, current, err, nil)
	}
	var l store.Link
	err = DecodeLink(&l, s, key, data)
	return rekey(l, false, err, func(l store.Link) ([]byte, error) { return EncodeLink(s, l) })
}

// RekeyState rekeys a stored pending link (as RekeyLink).
func RekeyState(s *store.Sealer, data []byte) ([]byte, Rekeyed, error) {
	p, current, err := DecodeState(s, data)
	return rekey(p, current, err, func(p store.PendingLink) ([]byte, error) { return EncodeState(s, p) })
}

// RekeyReply rekeys a stored in-flight reply (as RekeyLink).
func RekeyReply(s *store.Sealer, data []byte) ([]byte, Rekeyed, error) {
	r, current, err := DecodeReply(s, data)
	return rekey(r, current, err, func(r store.InflightReply) ([]byte, error) { return EncodeReply(s, r) })
}

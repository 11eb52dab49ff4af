package codec

import (
	"encoding/json"
	"fmt"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// The re-sealers of Rekey: each takes a stored record and returns it with
// every sealed field sealed under the current key, or current=true (and no
// bytes) when it already is. A field no configured key opens gives an
// error wrapping store.ErrUnseal; a record that is not JSON another error.

// reseal opens sealed (bound to aad) and, unless the current key opened
// it, seals its plaintext again under the current key. current reports
// that sealed is returned unchanged.
func reseal(s *store.Sealer, sealed, aad []byte) (out []byte, current bool, err error) {
	plain, current, err := s.OpenKey(sealed, aad)
	if err != nil || current {
		return sealed, current, err
	}
	out, err = s.Seal(plain, aad)
	return out, false, err
}

// ResealInbox re-seals the item of a stored codec.InboxRecord (JSON).
func ResealInbox(s *store.Sealer, data []byte) (out []byte, current bool, err error) {
	return resealRecord(data, "inbox entry", func(rec *InboxRecord) (current bool, err error) {
		rec.Item, current, err = reseal(s, rec.Item, itemAAD(rec.ID, rec.Key))
		return current, err
	})
}

// ResealInstall re-seals the tokens of a stored install whose storage key
// (InstallKey) is key: the tokens are bound to it.
func ResealInstall(s *store.Sealer, key string, data []byte) (out []byte, current bool, err error) {
	return resealRecord(data, "install "+key, func(rec *installRecord) (bool, error) {
		current := true
		for field, sealed := range map[string]*[]byte{"access": &rec.AccessToken, "refresh": &rec.RefreshToken} {
			if len(*sealed) == 0 {
				continue
			}
			var cur bool
			var err error
			if *sealed, cur, err = reseal(s, *sealed, installAADOf(key, field)); err != nil {
				return false, fmt.Errorf("%s token: %w", field, err)
			}
			current = current && cur
		}
		return current, nil
	})
}

// resealRecord decodes the JSON record R in data, re-seals its sealed
// fields in place with fields (which reports whether they all were
// current) and, unless they were, encodes it again. what names the
// record in errors.
func resealRecord[R any](data []byte, what string, fields func(*R) (bool, error)) ([]byte, bool, error) {
	var rec R
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, false, fmt.Errorf("reseal %s: %w", what, err)
	}
	current, err := fields(&rec)
	if err != nil || current {
		if err != nil {
			err = fmt.Errorf("reseal %s: %w", what, err)
		}
		return nil, current, err
	}
	out, err := json.Marshal(rec)
	if err != nil {
		return nil, false, fmt.Errorf("reseal %s: %w", what, err)
	}
	return out, false, nil
}

// ResealLink re-seals the tokens of a stored link kept under user (its
// User encoding); a link recorded under another user's name opens for no
// one (an error wrapping store.ErrUnseal).
func ResealLink(s *store.Sealer, user string, data []byte) (out []byte, current bool, err error) {
	key, err := LinkKey(data)
	if err != nil {
		return nil, false, err
	}
	if user != User(key) {
		return nil, false, fmt.Errorf("reseal link: record names another user than its key: %w", store.ErrUnseal)
	}
	if current, err = LinkCurrent(s, key, data); err != nil || current {
		return nil, current, err
	}
	l, err := DecodeLink(s, key, data)
	if err != nil {
		return nil, false, err
	}
	out, err = EncodeLink(s, l)
	return out, false, err
}

// ResealState re-seals the interaction handle of a stored pending link.
func ResealState(s *store.Sealer, data []byte) (out []byte, current bool, err error) {
	return recode(s, data, DecodeState, EncodeState)
}

// ResealReply re-seals the refs' handles of a stored in-flight reply.
func ResealReply(s *store.Sealer, data []byte) (out []byte, current bool, err error) {
	return recode(s, data, DecodeReply, EncodeReply)
}

// recode decodes data and, unless every sealed field is current, encodes
// it again (sealing under the current key).
func recode[T any](s *store.Sealer, data []byte, decode func(*store.Sealer, []byte) (T, bool, error), encode func(*store.Sealer, T) ([]byte, error)) ([]byte, bool, error) {
	v, current, err := decode(s, data)
	if err != nil || current {
		return nil, current, err
	}
	out, err := encode(s, v)
	return out, false, err
}

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
	var rec InboxRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, false, fmt.Errorf("reseal inbox entry: %w", err)
	}
	if rec.Item, current, err = reseal(s, rec.Item, itemAAD(rec.ID, rec.Key)); err != nil {
		return nil, false, fmt.Errorf("reseal inbox entry %s: %w", rec.ID, err)
	}
	if current {
		return nil, true, nil
	}
	if out, err = json.Marshal(rec); err != nil {
		return nil, false, fmt.Errorf("reseal inbox entry: %w", err)
	}
	return out, false, nil
}

// ResealInstall re-seals the tokens of a stored install whose storage key
// (InstallKey) is key: the tokens are bound to it.
func ResealInstall(s *store.Sealer, key string, data []byte) (out []byte, current bool, err error) {
	var rec installRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, false, fmt.Errorf("reseal install: %w", err)
	}
	current = true
	for field, sealed := range map[string]*[]byte{"access": &rec.AccessToken, "refresh": &rec.RefreshToken} {
		if len(*sealed) == 0 {
			continue
		}
		var cur bool
		if *sealed, cur, err = reseal(s, *sealed, installAADOf(key, field)); err != nil {
			return nil, false, fmt.Errorf("reseal install %s: %s token: %w", key, field, err)
		}
		current = current && cur
	}
	if current {
		return nil, true, nil
	}
	if out, err = json.Marshal(rec); err != nil {
		return nil, false, fmt.Errorf("reseal install: %w", err)
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
	p, current, err := DecodeState(s, data)
	if err != nil || current {
		return nil, current, err
	}
	out, err = EncodeState(s, p)
	return out, false, err
}

// ResealReply re-seals the refs' handles of a stored in-flight reply.
func ResealReply(s *store.Sealer, data []byte) (out []byte, current bool, err error) {
	r, current, err := DecodeReply(s, data)
	if err != nil || current {
		return nil, current, err
	}
	out, err = EncodeReply(s, r)
	return out, false, err
}

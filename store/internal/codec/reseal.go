package codec

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Rekeying of the records sealed field by field in place (inbox items,
// install tokens): each sealed field is opened and, unless the current key
// opened it, sealed again under the current key.

// reseal opens sealed (bound to aad) and, unless the current key opened
// it, seals its plaintext again under the current key. current reports
// that sealed is returned unchanged; an error wraps store.ErrUnseal when
// no configured key opens it.
func reseal(s *store.Sealer, sealed, aad []byte) (out []byte, current bool, err error) {
	plain, current, err := s.OpenKey(sealed, aad)
	if err != nil || current {
		return sealed, current, err
	}
	out, err = s.Seal(plain, aad)
	return out, false, err
}

// classify is rekey's classification for a record resealed in place.
func classify(current bool, err error) (Rekeyed, error) {
	switch {
	case errors.Is(err, store.ErrUnseal):
		return RekeyUnreadable, nil
	case err != nil:
		return 0, err
	case current:
		return RekeyCurrent, nil
	}
	return RekeyResealed, nil
}

// RekeyInboxRecord rekeys the item of rec: the record to store instead
// when RekeyResealed.
func RekeyInboxRecord(s *store.Sealer, rec InboxRecord) (InboxRecord, Rekeyed, error) {
	item, current, err := reseal(s, rec.Item, itemAAD(rec.ID, rec.Key))
	r, err := classify(current, err)
	if err != nil {
		return rec, 0, fmt.Errorf("rekey inbox entry %s: %w", rec.ID, err)
	}
	if r == RekeyResealed {
		rec.Item = item
	}
	return rec, r, nil
}

// RekeyInbox rekeys a stored inbox entry (an InboxRecord in JSON): the
// bytes to store instead when RekeyResealed.
func RekeyInbox(s *store.Sealer, data []byte) ([]byte, Rekeyed, error) {
	var rec InboxRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, 0, fmt.Errorf("rekey inbox entry: %w", err)
	}
	rec, r, err := RekeyInboxRecord(s, rec)
	if err != nil || r != RekeyResealed {
		return nil, r, err
	}
	out, err := json.Marshal(rec)
	if err != nil {
		return nil, 0, fmt.Errorf("rekey inbox entry: %w", err)
	}
	return out, r, nil
}

// RekeyInstall rekeys a stored install whose storage key (InstallKey) is
// key, to which its tokens are bound: the bytes to store instead when
// RekeyResealed.
func RekeyInstall(s *store.Sealer, key string, data []byte) ([]byte, Rekeyed, error) {
	var rec installRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, 0, fmt.Errorf("rekey install: %w", err)
	}
	current := true
	var err error
	for field, sealed := range map[string]*[]byte{"access": &rec.AccessToken, "refresh": &rec.RefreshToken} {
		if len(*sealed) == 0 {
			continue
		}
		var cur bool
		if *sealed, cur, err = reseal(s, *sealed, installAADOf(key, field)); err != nil {
			break
		}
		current = current && cur
	}
	r, err := classify(current, err)
	if err != nil || r != RekeyResealed {
		if err != nil {
			err = fmt.Errorf("rekey install %s: %w", key, err)
		}
		return nil, r, err
	}
	out, err := json.Marshal(rec)
	if err != nil {
		return nil, 0, fmt.Errorf("rekey install: %w", err)
	}
	return out, r, nil
}

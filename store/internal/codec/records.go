package codec

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Additional data of the sealed fields of states and replies. A sealed
// reply handle is bound to its reply id, so it cannot be moved to another
// reply; a pending link's interaction handle is bound to the field only
// (its record's name is a keyed hash that changes with the key).
const (
	aadStateInteraction = "secondme-bridge/state-interaction/v1"
	aadReplyExtra       = "secondme-bridge/reply-ref-extra/v1\x00"
)

// stateRecord is a store.PendingLink at rest: the interaction handle (a
// Discord interaction token, a Slack response_url) is sealed.
type stateRecord struct {
	store.PendingLink        // Interaction is empty (it held the handle in the clear before v1.1: still read)
	InteractionSealed []byte `json:"InteractionSealed,omitempty"`
}

// EncodeState encodes p for storage, sealing its interaction handle.
func EncodeState(s *store.Sealer, p store.PendingLink) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encode state: nil sealer")
	}
	rec := stateRecord{PendingLink: p}
	rec.PendingLink.Interaction = ""
	if p.Interaction != "" {
		var err error
		if rec.InteractionSealed, err = s.Seal([]byte(p.Interaction), []byte(aadStateInteraction)); err != nil {
			return nil, fmt.Errorf("encode state: %w", err)
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return data, nil
}

// DecodeState decodes a stored pending link. An interaction handle that no
// key opens is dropped (the result is then told without it) and reported
// by current=false and an error wrapping store.ErrUnseal alongside the
// decoded value; current also reports whether every sealed field was
// sealed under the current key.
func DecodeState(s *store.Sealer, data []byte) (p store.PendingLink, current bool, err error) {
	if s == nil {
		return store.PendingLink{}, false, errors.New("decode state: nil sealer")
	}
	var rec stateRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.PendingLink{}, false, fmt.Errorf("decode state: %w", err)
	}
	p = rec.PendingLink
	current = p.Interaction == "" // a handle in the clear is not current
	if len(rec.InteractionSealed) > 0 {
		plain, cur, err := s.OpenKey(rec.InteractionSealed, []byte(aadStateInteraction))
		if err != nil {
			return p, false, fmt.Errorf("decode state: interaction: %w", err)
		}
		p.Interaction, current = string(plain), cur
	}
	return p, current, nil
}

// replyRecord is a store.InflightReply at rest: every ref's Extra (an
// interaction handle on Discord and Slack) is sealed.
type replyRecord struct {
	store.InflightReply
	Refs []refRecord `json:"Refs"` // shadows InflightReply.Refs
}

type refRecord struct {
	Channel     string
	ID          string
	Extra       string `json:"Extra,omitempty"` // in the clear before v1.1: still read, never written
	ExtraSealed []byte `json:"ExtraSealed,omitempty"`
}

// EncodeReply encodes r for storage, sealing each ref's Extra.
func EncodeReply(s *store.Sealer, r store.InflightReply) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encode reply: nil sealer")
	}
	rec := replyRecord{InflightReply: r}
	rec.InflightReply.Refs = nil
	if r.Refs != nil {
		rec.Refs = make([]refRecord, len(r.Refs))
	}
	for i, ref := range r.Refs {
		rec.Refs[i] = refRecord{Channel: ref.Channel, ID: ref.ID}
		if ref.Extra != "" {
			var err error
			if rec.Refs[i].ExtraSealed, err = s.Seal([]byte(ref.Extra), []byte(aadReplyExtra+r.ID)); err != nil {
				return nil, fmt.Errorf("encode reply: %w", err)
			}
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode reply: %w", err)
	}
	return data, nil
}

// DecodeReply decodes a stored in-flight reply. A ref whose Extra no key
// opens keeps an empty Extra; then the error wraps store.ErrUnseal and the
// decoded reply is returned with it. current reports whether every sealed
// field was sealed under the current key.
func DecodeReply(s *store.Sealer, data []byte) (r store.InflightReply, current bool, err error) {
	if s == nil {
		return store.InflightReply{}, false, errors.New("decode reply: nil sealer")
	}
	var rec replyRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.InflightReply{}, false, fmt.Errorf("decode reply: %w", err)
	}
	r, current = rec.InflightReply, true
	if rec.Refs != nil {
		r.Refs = make([]store.ReplyRef, len(rec.Refs))
	}
	var unseal error
	for i, ref := range rec.Refs {
		r.Refs[i] = store.ReplyRef{Channel: ref.Channel, ID: ref.ID, Extra: ref.Extra}
		if ref.Extra != "" {
			current = false // written in the clear by an older version
		}
		if len(ref.ExtraSealed) == 0 {
			continue
		}
		plain, cur, err := s.OpenKey(ref.ExtraSealed, []byte(aadReplyExtra+r.ID))
		if err != nil {
			unseal, current = err, false
			continue
		}
		r.Refs[i].Extra = string(plain)
		current = current && cur
	}
	if unseal != nil {
		return r, false, fmt.Errorf("decode reply: ref: %w", unseal)
	}
	return r, current, nil
}

// LinkCurrent reports whether every sealed field of a stored link was
// sealed under the current key; the error wraps store.ErrUnseal when no
// key opens one.
func LinkCurrent(s *store.Sealer, key store.UserKey, data []byte) (bool, error) {
	var rec linkRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return false, fmt.Errorf("decode link: %w", err)
	}
	current := true
	for field, sealed := range map[string][]byte{"access": rec.AccessToken, "refresh": rec.RefreshToken} {
		if len(sealed) == 0 {
			continue
		}
		_, cur, err := s.OpenKey(sealed, tokenAAD(key, field))
		if err != nil {
			return false, fmt.Errorf("decode link: %s token: %w", field, err)
		}
		current = current && cur
	}
	return current, nil
}

// LinkKey returns the user key recorded inside a stored link (rekey walks
// the links without knowing their users).
func LinkKey(data []byte) (store.UserKey, error) {
	var rec struct {
		Key store.UserKey `json:"key"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.UserKey{}, fmt.Errorf("decode link: %w", err)
	}
	return rec.Key, nil
}

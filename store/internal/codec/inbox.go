package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// InboxRecord is a store.InboxEntry at rest: the item sealed, bound to the
// entry's id; Conv is the conversation's encoding (Conversation), which
// the backends count entries by.
type InboxRecord struct {
	ID    string                `json:"id"`
	Owner string                `json:"owner"`
	Key   store.ConversationKey `json:"key"`
	Conv  string                `json:"conv"`
	Seq   uint64                `json:"seq"`
	Item  []byte                `json:"item_sealed,omitempty"`
	At    time.Time             `json:"at"`
}

// itemAAD binds a sealed item to its entry and conversation, so that it
// can be moved to neither another entry nor another conversation.
func itemAAD(id string, conv store.ConversationKey) []byte {
	return []byte("secondme-bridge/inbox-item/v1\x00" + id + "\x00" + Conversation(conv))
}

// Enter checks the arguments of Turns.Enter (those of Admit, plus the
// entry and the bound) and returns the ids as Admit does.
func Enter(ids []string, claimTTL time.Duration, rate store.Limit, e store.InboxEntry, bound int) ([]string, error) {
	out, err := Admit(ids, claimTTL, rate)
	if err != nil {
		return nil, err
	}
	if err := NonEmpty("enter turn", "entry id", e.ID); err != nil {
		return nil, err
	}
	if err := NonEmpty("enter turn", "entry owner", e.Owner); err != nil {
		return nil, err
	}
	if err := NonEmpty("enter turn", "entry platform", e.Conversation.Platform); err != nil {
		return nil, err
	}
	if bound <= 0 {
		return nil, fmt.Errorf("enter turn: bound %d must be positive", bound)
	}
	return out, nil
}

// EncodeInbox encodes e (without its Seq, which the backend sets) with
// its item sealed.
func EncodeInbox(s *store.Sealer, e store.InboxEntry) (InboxRecord, error) {
	if s == nil {
		return InboxRecord{}, errors.New("encode inbox entry: nil sealer")
	}
	sealed, err := s.Seal(e.Item, itemAAD(e.ID, e.Conversation))
	if err != nil {
		return InboxRecord{}, fmt.Errorf("encode inbox entry: %w", err)
	}
	return InboxRecord{
		ID: e.ID, Owner: e.Owner, Key: e.Conversation, Conv: Conversation(e.Conversation),
		Item: sealed, At: e.AdmittedAt,
	}, nil
}

// DecodeInbox decodes a stored record, opening its item; an item that
// cannot be opened gives an entry marked Unreadable. Only a record that is
// not JSON is an error.
func DecodeInbox(s *store.Sealer, data []byte) (store.InboxEntry, error) {
	var rec InboxRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.InboxEntry{}, fmt.Errorf("decode inbox entry: %w", err)
	}
	return OpenInbox(s, rec), nil
}

// OpenInbox returns the entry of rec, its item opened, or marked
// Unreadable when it cannot be.
func OpenInbox(s *store.Sealer, rec InboxRecord) store.InboxEntry {
	e := store.InboxEntry{ID: rec.ID, Owner: rec.Owner, Conversation: rec.Key, Seq: rec.Seq, AdmittedAt: rec.At}
	item, err := s.Open(rec.Item, itemAAD(rec.ID, rec.Key))
	if err != nil {
		e.Unreadable = true
		return e
	}
	e.Item = item
	return e
}

package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/bwmarrin/discordgo"
)

// discordgo v0.28.1, the approved release, decodes neither
// message_reference.type nor message_snapshots, which make a forward. The
// adapter reads them itself from the MESSAGE_CREATE's raw data (onEvent),
// and only for a message with a message_reference: no other message can
// be a forward, so every other one is decoded once, by discordgo.

// referenceType is message_reference.type in Discord's API: how the
// referenced message comes along. Absent means referenceDefault.
type referenceType int

// Message reference types (Discord's values).
const (
	// referenceDefault is a reply (or a crosspost, a pin…): the message
	// comes as referenced_message.
	referenceDefault referenceType = 0
	// referenceForward is a forward: the message comes as
	// message_snapshots.
	referenceForward referenceType = 1
)

// snapshotMessage is the part of a forwarded message's snapshot (the
// "message" of a message_snapshots entry, a partial message without
// author) the bridge reads.
type snapshotMessage struct {
	Content     string                         `json:"content"`
	Attachments []*discordgo.MessageAttachment `json:"attachments"`
}

// extras are the parts of a gateway message discordgo does not decode.
// The zero value is a message without them: no reference, or a reply.
type extras struct {
	refType   referenceType
	snapshots []snapshotMessage
}

// extrasWire is what readExtras decodes of a MESSAGE_CREATE's data.
type extrasWire struct {
	Reference *referenceWire `json:"message_reference"`
	Snapshots []snapshotWire `json:"message_snapshots"`
}

// referenceWire is the part of a message_reference discordgo leaves out.
type referenceWire struct {
	Type referenceType `json:"type"`
}

// snapshotWire is an entry of message_snapshots.
type snapshotWire struct {
	Message *snapshotMessage `json:"message"`
}

// readExtras decodes the extras of raw, a MESSAGE_CREATE's data. A value
// of the wrong type (a malformed payload) is left out and the rest still
// read, as encoding/json does: an unreadable reference type counts as
// absent (a reply), an unreadable snapshot or snapshot field as missing.
// The error then says what could not be read (it names types and fields,
// never the message's text).
func readExtras(raw json.RawMessage) (extras, error) {
	var w extrasWire
	err := json.Unmarshal(raw, &w)
	var x extras
	if w.Reference != nil {
		x.refType = w.Reference.Type
	}
	for _, s := range w.Snapshots {
		if s.Message != nil {
			x.snapshots = append(x.snapshots, *s.Message)
		}
	}
	if err != nil {
		return x, fmt.Errorf("read message_reference and message_snapshots: %w", err)
	}
	return x, nil
}

// lazyExtras are the extras of one gateway message, read from its raw
// data on first use and only when the message has a message_reference. It
// is used by one goroutine (the message's handling).
type lazyExtras struct {
	m    *discordgo.Message
	raw  json.RawMessage
	log  *slog.Logger
	read bool
	x    extras
}

// get returns the extras, reading them the first time. A payload that
// cannot be read whole is logged (a warning naming the message id) and
// handled with what could be read.
func (l *lazyExtras) get(ctx context.Context) extras {
	if l.read {
		return l.x
	}
	l.read = true
	if l.m.MessageReference == nil || len(l.raw) == 0 {
		return l.x
	}
	x, err := readExtras(l.raw)
	if err != nil {
		l.log.WarnContext(ctx, "discord message with an unreadable reference or forward; handled with what could be read",
			"message_id", l.m.ID, "error", err)
	}
	l.x = x
	return x
}

package discordtest

import (
	"time"

	"github.com/bwmarrin/discordgo"
)

// discordgo v0.28.1's Message has neither message_reference.type nor
// message_snapshots; the fake sends them with wire types of its own, as
// Discord does (messageCreateWire).

// MessageReferenceType is message_reference.type: how the referenced
// message comes along. The values are Discord's.
type MessageReferenceType int

// Message reference types.
const (
	// ReferenceDefault is a reply's reference (or a crosspost's, a
	// pin's…): the message comes as referenced_message.
	ReferenceDefault MessageReferenceType = 0
	// ReferenceForward is a forward's: the message comes as
	// message_snapshots.
	ReferenceForward MessageReferenceType = 1
)

// flagHasSnapshot is Discord's HAS_SNAPSHOT message flag, set on a
// forward.
const flagHasSnapshot = 1 << 14

// Extras are the parts of a MESSAGE_CREATE that discordgo v0.28.1's
// Message cannot carry (SendMessageCreateWith).
type Extras struct {
	// ReferenceType is message_reference.type, sent whenever the message
	// has a message_reference (as Discord does; ReferenceDefault for a
	// reply).
	ReferenceType MessageReferenceType
	// Snapshots is message_snapshots: the message a forward carries
	// (Discord sends one). A forward also gets the HAS_SNAPSHOT flag.
	Snapshots []Snapshot
}

// Snapshot is an entry of message_snapshots: {"message": a partial
// message}.
type Snapshot struct {
	Message SnapshotMessage `json:"message"`
}

// SnapshotMessage is the partial message of a snapshot: Discord's subset
// of the forwarded message's fields, without its author, id or channel.
// Nil slices are sent as empty arrays and a zero Timestamp as the time of
// the dispatch, as Discord sends them.
type SnapshotMessage struct {
	Type            discordgo.MessageType          `json:"type"`
	Content         string                         `json:"content"`
	Embeds          []*discordgo.MessageEmbed      `json:"embeds"`
	Attachments     []*discordgo.MessageAttachment `json:"attachments"`
	Timestamp       time.Time                      `json:"timestamp"`
	EditedTimestamp *time.Time                     `json:"edited_timestamp"`
	Flags           discordgo.MessageFlags         `json:"flags"`
	Mentions        []*discordgo.User              `json:"mentions"`
	MentionRoles    []string                       `json:"mention_roles"`
	StickerItems    []*discordgo.StickerItem       `json:"sticker_items,omitempty"`
	Components      []discordgo.MessageComponent   `json:"components"`
}

// wire returns s as sent, with the empty arrays and the timestamp filled.
func (s SnapshotMessage) wire(now time.Time) SnapshotMessage {
	if s.Embeds == nil {
		s.Embeds = []*discordgo.MessageEmbed{}
	}
	if s.Attachments == nil {
		s.Attachments = []*discordgo.MessageAttachment{}
	}
	if s.Mentions == nil {
		s.Mentions = []*discordgo.User{}
	}
	if s.MentionRoles == nil {
		s.MentionRoles = []string{}
	}
	if s.Components == nil {
		s.Components = []discordgo.MessageComponent{}
	}
	if s.Timestamp.IsZero() {
		s.Timestamp = now
	}
	return s
}

// messageCreateWire is a MESSAGE_CREATE's data: discordgo's Message with
// its message_reference replaced by one with a type, and the message's
// snapshots. (encoding/json takes the outer of two fields of one name.)
type messageCreateWire struct {
	*discordgo.Message
	Reference *referenceWire `json:"message_reference,omitempty"`
	Snapshots []Snapshot     `json:"message_snapshots,omitempty"`
}

// referenceWire is a message_reference with its type.
type referenceWire struct {
	Type MessageReferenceType `json:"type"`
	*discordgo.MessageReference
}

// newMessageCreateWire builds the data of m with x.
func newMessageCreateWire(m *discordgo.Message, x Extras) *messageCreateWire {
	w := &messageCreateWire{Message: m}
	if m.MessageReference != nil {
		w.Reference = &referenceWire{Type: x.ReferenceType, MessageReference: m.MessageReference}
	}
	for _, s := range x.Snapshots {
		w.Snapshots = append(w.Snapshots, Snapshot{Message: s.Message.wire(m.Timestamp)})
	}
	return w
}

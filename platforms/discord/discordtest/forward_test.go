package discordtest

import (
	"encoding/json"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
)

// TestMessageReferenceWire: what the fake dispatches for a forward, a
// reply and a plain message is what Discord sends: a forward's
// message_reference has type 1 and its message comes as
// message_snapshots[].message (a partial message without author) with the
// HAS_SNAPSHOT flag; a reply's reference has type 0; a plain message has
// neither field.
func TestMessageReferenceWire(t *testing.T) {
	t.Parallel()
	s := New(t)
	ws := readyGateway(t, s)
	dm := s.DMChannel(DefaultUser.ID)
	next := func() map[string]json.RawMessage {
		t.Helper()
		f := readFrame(t, ws)
		var d map[string]json.RawMessage
		if f.T != "MESSAGE_CREATE" || json.Unmarshal(f.D, &d) != nil {
			t.Fatalf("frame = %s %s, want MESSAGE_CREATE", f.T, f.D)
		}
		return d
	}

	att := &discordgo.MessageAttachment{ID: "a1", Filename: "plan.txt", ContentType: "text/plain", Size: 4, URL: "https://cdn.discordapp.com/attachments/1/2/plan.txt"}
	_, err := s.SendMessageCreateWith(&discordgo.Message{
		ChannelID: dm, Type: discordgo.MessageTypeDefault,
		MessageReference: &discordgo.MessageReference{MessageID: "555", ChannelID: "777", GuildID: DefaultGuildID},
	}, Extras{ReferenceType: ReferenceForward, Snapshots: []Snapshot{{Message: SnapshotMessage{
		Content: "The launch moves to Friday.", Attachments: []*discordgo.MessageAttachment{att},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	d := next()
	var ref map[string]any
	if err := json.Unmarshal(d["message_reference"], &ref); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"type": 1.0, "message_id": "555", "channel_id": "777", "guild_id": DefaultGuildID}, ref); diff != "" {
		t.Errorf("forward's message_reference (-want +got):\n%s", diff)
	}
	var flags int
	_ = json.Unmarshal(d["flags"], &flags)
	if flags&flagHasSnapshot == 0 {
		t.Errorf("forward's flags = %d, want HAS_SNAPSHOT", flags)
	}
	var snaps []map[string]map[string]json.RawMessage
	if err := json.Unmarshal(d["message_snapshots"], &snaps); err != nil || len(snaps) != 1 {
		t.Fatalf("message_snapshots = %s (%v), want one", d["message_snapshots"], err)
	}
	msg := snaps[0]["message"]
	got := map[string]string{}
	for _, k := range []string{"type", "content", "embeds", "mentions", "mention_roles", "components", "flags", "edited_timestamp"} {
		got[k] = string(msg[k])
	}
	want := map[string]string{
		"type": "0", "content": `"The launch moves to Friday."`, "embeds": "[]", "mentions": "[]", "mention_roles": "[]",
		"components": "[]", "flags": "0", "edited_timestamp": "null",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot message (-want +got):\n%s", diff)
	}
	var atts []discordgo.MessageAttachment
	if err := json.Unmarshal(msg["attachments"], &atts); err != nil || len(atts) != 1 || atts[0].URL != att.URL || atts[0].Filename != "plan.txt" {
		t.Errorf("snapshot attachments = %s (%v)", msg["attachments"], err)
	}
	if msg["timestamp"] == nil || msg["author"] != nil || msg["id"] != nil {
		t.Errorf("snapshot message fields = %v, want a timestamp and no author or id", msg)
	}

	said, err := s.DM(DefaultUser, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if d := next(); d["message_reference"] != nil || d["message_snapshots"] != nil {
		t.Errorf("plain message carries %s / %s", d["message_reference"], d["message_snapshots"])
	}
	if _, err := s.Reply("", dm, DefaultUser, said.ID, "and then?"); err != nil {
		t.Fatal(err)
	}
	d = next()
	ref = nil
	if err := json.Unmarshal(d["message_reference"], &ref); err != nil {
		t.Fatal(err)
	}
	if ref["type"] != 0.0 || ref["message_id"] != said.ID || d["message_snapshots"] != nil || d["referenced_message"] == nil {
		t.Errorf("reply = %s / snapshots %s, want type 0 and the referenced message", d["message_reference"], d["message_snapshots"])
	}
}

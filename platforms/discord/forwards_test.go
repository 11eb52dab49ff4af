package discord

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
)

// TestReadExtras reads message_reference.type and message_snapshots from
// a MESSAGE_CREATE's data, well-formed or not: what is malformed is left
// out, the rest still read, and the error never carries the message's
// text.
func TestReadExtras(t *testing.T) {
	t.Parallel()
	snap := func(content string, files ...string) snapshotMessage {
		s := snapshotMessage{Content: content}
		for _, f := range files {
			if f == "" {
				s.Attachments = append(s.Attachments, nil)
				continue
			}
			s.Attachments = append(s.Attachments, &discordgo.MessageAttachment{Filename: f})
		}
		return s
	}
	for _, tc := range []struct {
		name, raw string
		want      extras
		wantErr   bool
	}{
		{"plain", `{"id":"1","content":"hi"}`, extras{}, false},
		{"reply without type", `{"message_reference":{"message_id":"1"}}`, extras{}, false},
		{"reply", `{"message_reference":{"type":0,"message_id":"1"}}`, extras{}, false},
		{"forward", `{"message_reference":{"type":1,"message_id":"1"},"message_snapshots":[{"message":{"content":"secret","attachments":[{"filename":"a.txt"}]}}]}`,
			extras{refType: referenceForward, snapshots: []snapshotMessage{snap("secret", "a.txt")}}, false},
		{"unknown type", `{"message_reference":{"type":7}}`, extras{refType: 7}, false},
		{"snapshots not an array", `{"message_reference":{"type":1},"message_snapshots":"secret"}`, extras{refType: referenceForward}, true},
		{"type not a number", `{"message_reference":{"type":"1"},"message_snapshots":[{"message":{"content":"secret"}}]}`,
			extras{snapshots: []snapshotMessage{snap("secret")}}, true},
		{"reference not an object", `{"message_reference":5}`, extras{}, true},
		{"mixed snapshots", `{"message_reference":{"type":1},"message_snapshots":[{"message":{"content":5}},{"message":{"content":"secret","attachments":"x"}},null,7,{"message":null},{"message":{"content":"b","attachments":[null,{"filename":"f"}]}}]}`,
			extras{refType: referenceForward, snapshots: []snapshotMessage{snap(""), snap("secret"), snap("b", "", "f")}}, true},
		{"null", `null`, extras{}, false},
		{"not an object", `"secret"`, extras{}, true},
	} {
		got, err := readExtras(json.RawMessage(tc.raw))
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(extras{})); diff != "" {
			t.Errorf("%s: extras (-want +got):\n%s", tc.name, diff)
		}
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error = %v, want one: %v", tc.name, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %q carries the message's text", tc.name, err)
		}
	}
}

// TestLazyExtrasOnlyForReferences: a message without a message_reference
// is not decoded again (its raw data is not even looked at); a message
// with one is decoded once, however often its extras are asked for, and
// a malformed one is logged once, with its id.
func TestLazyExtrasOnlyForReferences(t *testing.T) {
	t.Parallel()
	var logs testutil.SyncBuffer
	log := testutil.Logger(t, slog.LevelInfo, &logs)
	plain := lazyExtras{m: &discordgo.Message{ID: "1"}, raw: json.RawMessage(`not json`), log: log}
	if x := plain.get(t.Context()); len(x.snapshots) != 0 || x.refType != referenceDefault {
		t.Errorf("plain message extras = %+v", x)
	}
	bad := lazyExtras{
		m:   &discordgo.Message{ID: "42", MessageReference: &discordgo.MessageReference{MessageID: "9"}},
		raw: json.RawMessage(`{"message_reference":{"type":1},"message_snapshots":"x"}`), log: log,
	}
	for range 3 {
		if x := bad.get(t.Context()); x.refType != referenceForward || len(x.snapshots) != 0 {
			t.Errorf("malformed forward extras = %+v", x)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "unreadable reference or forward"); n != 1 || !strings.Contains(out, "message_id=42") {
		t.Errorf("logs = %q, want one warning naming message 42 (none for the plain message)", out)
	}
}

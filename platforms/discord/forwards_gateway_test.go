package discord

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// TestForwardsFromRawGateway sends forwards, replies and malformed
// forwards as raw gateway frames: none panics, a malformed forward is
// still delivered (as a forward, with what could be read) and logged, a
// reply's reference (type 0 or none) stays a reply, and a forward in a
// thread counts as carrying inputs though it has no text of its own.
func TestForwardsFromRawGateway(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	var logs testutil.SyncBuffer
	_, rec := startTuned(t, srv, nil, func(a *Adapter) {
		a.log = testutil.Logger(t, slog.LevelInfo, &logs)
	})
	dm := srv.DMChannel(alice.ID)
	author := `"author":{"id":"` + alice.ID + `","username":"alice"}`
	frame := func(seq, id, channel, guild, rest string) {
		t.Helper()
		g := ""
		if guild != "" {
			g = `"guild_id":"` + guild + `",`
		}
		f := `{"op":0,"s":` + seq + `,"t":"MESSAGE_CREATE","d":{"id":"` + id + `","channel_id":"` + channel + `",` + g + author + `,"type":0,` + rest + `}}`
		mustNoErr(t, srv.SendRawFrame([]byte(f)), "frame "+id)
	}

	frame("801", "901", dm, "", `"content":"","message_reference":{"type":1,"message_id":"5","channel_id":"6"},"message_snapshots":"not an array"`)
	ev := rec.event(t, "msg:901")
	if ev.ReplyToID != "" || len(ev.Inputs.Quotes) != 0 || len(ev.Inputs.Attachments) != 0 || !ev.DM {
		t.Errorf("malformed forward = reply %q quotes %+v files %+v dm %v", ev.ReplyToID, ev.Inputs.Quotes, ev.Inputs.Attachments, ev.DM)
	}
	if out := logs.String(); !strings.Contains(out, "unreadable reference or forward") || !strings.Contains(out, "message_id=901") {
		t.Errorf("logs = %q, want a warning naming message 901", out)
	}

	frame("802", "902", dm, "", `"content":"look","message_reference":{"type":1,"message_id":"5","channel_id":"6"},`+
		`"message_snapshots":[{"message":{"content":5}},null,{"message":{"content":"Friday it is.","attachments":"x"}}]`)
	ev = rec.event(t, "msg:902")
	want := []platforms.Quote{{Kind: platforms.QuoteForward, Text: "Friday it is."}}
	if diff := cmp.Diff(want, ev.Inputs.Quotes); diff != "" || ev.ReplyToID != "" || ev.Text != "look" {
		t.Errorf("partly malformed forward: reply %q text %q quotes (-want +got):\n%s", ev.ReplyToID, ev.Text, diff)
	}

	frame("803", "903", dm, "", `"content":"and?","message_reference":{"type":0,"message_id":"77","channel_id":"`+dm+`"}`)
	frame("804", "904", dm, "", `"content":"and?","message_reference":{"message_id":"78","channel_id":"`+dm+`"}`)
	frame("805", "905", dm, "", `"content":"and?","message_reference":{"type":"1","message_id":"79","channel_id":"`+dm+`"}`)
	for id, to := range map[string]platforms.MessageID{"903": "77", "904": "78", "905": "79"} {
		if ev := rec.event(t, "msg:"+id); ev.ReplyToID != to || len(ev.Inputs.Quotes) != 0 {
			t.Errorf("reply %s: ReplyToID %q quotes %+v, want a reply to %s", id, ev.ReplyToID, ev.Inputs.Quotes, to)
		}
	}

	// In a thread, a follow-up without text is answered only when it
	// brings something: a forward does, a bare reply does not.
	frame("806", "906", threadID, guildID, `"content":"","message_reference":{"type":1,"message_id":"5","channel_id":"6"},"message_snapshots":[{"message":{"content":"The plan."}}]`)
	ev = rec.event(t, "msg:906")
	if ev.Thread != threadID || len(ev.Inputs.Quotes) != 1 || ev.Inputs.Quotes[0].Text != "The plan." || ev.ReplyToID != "" {
		t.Errorf("forward in a thread = thread %q quotes %+v reply %q", ev.Thread, ev.Inputs.Quotes, ev.ReplyToID)
	}
	frame("807", "907", threadID, guildID, `"content":"","message_reference":{"type":0,"message_id":"5","channel_id":"`+threadID+`"}`)
	rec.ignoredID(t, "907")
	frame("808", "908", threadID, guildID, `"content":"","message_reference":{"type":1,"message_id":"5","channel_id":"6"},"message_snapshots":{"message":{}}`)
	rec.ignoredID(t, "908")

	// Only MESSAGE_CREATE is a message to the bridge: an edit is not.
	mustNoErr(t, srv.SendRawFrame([]byte(`{"op":0,"s":809,"t":"MESSAGE_UPDATE","d":{"id":"909","channel_id":"`+dm+`",`+author+
		`,"type":0,"content":"edited","message_reference":{"type":1,"message_id":"5","channel_id":"6"},"message_snapshots":[{"message":{"content":"x"}}]}}`)), "update")

	// Still delivering, in order in the DM: the edit was not queued.
	m, err := srv.DM(discordtest.DefaultUser, "still there?")
	mustNoErr(t, err, "dm")
	rec.event(t, "msg:"+m.ID)
	evs, ignored := rec.snapshot()
	for _, ev := range evs {
		if ev.MessageID == "909" {
			t.Errorf("MESSAGE_UPDATE delivered: %+v", ev)
		}
	}
	for _, id := range ignored {
		if id == "909" {
			t.Error("MESSAGE_UPDATE reached the message filter")
		}
	}
}

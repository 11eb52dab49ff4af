package slack

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

// stopEvents returns the EventStop events rec got.
func stopEvents(rec *recorder) []platforms.Event {
	var out []platforms.Event
	for _, ev := range rec.all() {
		if ev.Kind == platforms.EventStop {
			out = append(out, ev)
		}
	}
	return out
}

// waitStops waits for n EventStop events.
func waitStops(t *testing.T, rec *recorder, n int) []platforms.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if evs := stopEvents(rec); len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d stop events, want %d: %+v", len(stopEvents(rec)), n, rec.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The Stop button over HTTP (signature-checked interactivity): shown while
// the reply streams, a click by anyone reaches the bridge as EventStop
// with a private answer handle, the final edit removes the button.
func TestSlackStopButton(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	rec := &recorder{}
	a, _, _ := startHTTP(t, fake, rec)
	ctx := t.Context()
	to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1700000000.000001", User: "U1"}
	stop := &platforms.StopControl{ReplyID: "0123456789abcdef01234567", Label: "Stop <!channel>"}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "Once upon", Stop: stop})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if !fake.HasButton(string(ref.Channel), string(ref.ID), StopActionID) {
		t.Fatal("no Stop button on the streaming message")
	}
	if _, err := a.Edit(ctx, ref, platforms.Message{Text: "Once upon a time", Stop: stop}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if !fake.HasButton(string(ref.Channel), string(ref.ID), StopActionID) {
		t.Fatal("a streaming edit dropped the Stop button")
	}
	fake.AssertNoPings(t) // the label is neutralized too

	// A stranger's click: the bridge answers privately through the
	// sealed response_url; the message is untouched.
	ack, err := fake.Click(ctx, "U2", string(ref.Channel), string(ref.ID), StopActionID)
	if err != nil || ack.HTTPStatus != http.StatusOK {
		t.Fatalf("click by U2: %v (status %d)", err, ack.HTTPStatus)
	}
	ev := waitStops(t, rec, 1)[0]
	if ev.Stop == nil || ev.Stop.ReplyID != stop.ReplyID || ev.Stop.Native || ev.User.ID != "U2" || ev.Channel != "C1" ||
		ev.Thread != to.Thread || ev.MessageID != ref.ID || ev.Interaction == "" || ev.Workspace != "T1" {
		t.Fatalf("stop event = %+v (stop %+v)", ev, ev.Stop)
	}
	if err := a.SendEphemeral(ctx, platforms.Target{Workspace: "T1", Channel: "C1", User: "U2", Interaction: ev.Interaction},
		platforms.Message{Text: "Only the person who asked can stop this."}); err != nil {
		t.Fatalf("private refusal: %v", err)
	}
	posts := fake.ResponsePosts(ack.ResponseURL)
	if len(posts) != 1 || posts[0].ResponseType != "ephemeral" || posts[0].ReplaceOriginal {
		t.Fatalf("response posts = %+v, want one ephemeral answer", posts)
	}
	if m, _ := fake.Message(string(ref.Channel), string(ref.ID)); m.Display() != "Once upon a time" {
		t.Fatalf("the reply changed: %q", m.Display())
	}

	// The owner's click, delivered twice (a Slack retry): both carry the
	// same identity, so the bridge handles it once.
	b := slacktest.BlockAction{User: "U1", Channel: string(ref.Channel), MessageTS: string(ref.ID), ThreadTS: string(to.Thread),
		ActionID: StopActionID, BlockID: stopBlockID, Value: stop.ReplyID, TriggerID: "trig-owner"}
	for range 2 {
		if _, err := fake.SendBlockAction(ctx, b); err != nil {
			t.Fatalf("owner click: %v", err)
		}
	}
	evs := waitStops(t, rec, 3)
	if !slices.Equal(evs[1].DedupeIDs, evs[2].DedupeIDs) || evs[1].User.ID != "U1" {
		t.Errorf("duplicated click: dedupe ids %v and %v", evs[1].DedupeIDs, evs[2].DedupeIDs)
	}

	if _, err := a.Edit(ctx, ref, platforms.Message{Text: "Once upon a time\n\n_stopped_"}); err != nil {
		t.Fatalf("final edit: %v", err)
	}
	if fake.HasButton(string(ref.Channel), string(ref.ID), StopActionID) {
		t.Fatal("the final edit left the Stop button")
	}
	if _, err := fake.Click(ctx, "U1", string(ref.Channel), string(ref.ID), StopActionID); err == nil {
		t.Error("a removed button could still be clicked")
	}
	// A click that was in flight when the button went (out of order):
	// still an EventStop for that reply; the bridge finds nothing running.
	b.TriggerID = "trig-late"
	if _, err := fake.SendBlockAction(ctx, b); err != nil {
		t.Fatalf("late click: %v", err)
	}
	if late := waitStops(t, rec, 4)[3]; late.Stop.ReplyID != stop.ReplyID {
		t.Errorf("late click = %+v", late.Stop)
	}
}

// Forged, foreign and unsigned block_actions never reach the bridge, and
// are acknowledged (or refused, unsigned) without error.
func TestSlackStopHostile(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	rec := &recorder{}
	_, srv, _ := startHTTP(t, fake, rec)
	ctx := t.Context()
	base := slacktest.BlockAction{User: "U1", Channel: "C1", MessageTS: "1700000000.000009", ActionID: StopActionID, Value: "r1"}
	for name, mutate := range map[string]func(*slacktest.BlockAction){
		"empty value":    func(b *slacktest.BlockAction) { b.Value = "" },
		"spaces":         func(b *slacktest.BlockAction) { b.Value = "r 1" },
		"colon":          func(b *slacktest.BlockAction) { b.Value = "stop:*" },
		"too long":       func(b *slacktest.BlockAction) { b.Value = strings.Repeat("a", 65) },
		"unicode":        func(b *slacktest.BlockAction) { b.Value = "r\u00e91" },
		"other action":   func(b *slacktest.BlockAction) { b.ActionID = "link_0" },
		"no user":        func(b *slacktest.BlockAction) { b.User = "" },
		"no channel":     func(b *slacktest.BlockAction) { b.Channel = "" },
		"no message":     func(b *slacktest.BlockAction) { b.MessageTS = "" },
		"other workflow": func(b *slacktest.BlockAction) { b.ActionID = "secondme_stop_x" },
	} {
		b := base
		mutate(&b)
		ack, err := fake.SendBlockAction(ctx, b)
		if err != nil || ack.HTTPStatus != http.StatusOK {
			t.Errorf("%s: %v (status %d), want a plain ack", name, err, ack.HTTPStatus)
		}
	}
	// Unsigned or badly signed: refused before parsing.
	payload := fake.BlockActionPayload(base)
	body := []byte("payload=" + url.QueryEscape(string(payload)))
	for name, secret := range map[string]string{"bad signature": "wrong-secret"} {
		req, _ := slacktest.NewSignedRequest(ctx, srv.URL+PathInteractivity, "application/x-www-form-urlencoded", body, secret, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	if evs := rec.settle(); len(stopEvents(rec)) != 0 {
		t.Fatalf("hostile clicks reached the bridge: %+v", evs)
	}
	// Malformed payloads over Socket Mode are acknowledged too.
}

// Bad Stop controls are refused before any request.
func TestSlackStopControlChecked(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*platforms.StopControl{
		"empty id": {Label: "Stop"}, "bad id": {ReplyID: "a b", Label: "Stop"},
		"long id": {ReplyID: strings.Repeat("a", 65), Label: "Stop"}, "no label": {ReplyID: "r", Label: "  "},
	} {
		if _, err := render(platforms.Message{Text: "x", Stop: s}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := render(platforms.Message{Text: "x", Stop: &platforms.StopControl{ReplyID: "r", Label: strings.Repeat("é", 100)}})
	if err != nil || len(c.blocks) != 2 {
		t.Fatalf("long label: %v, %d blocks", err, len(c.blocks))
	}
}

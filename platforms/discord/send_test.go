package discord

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

func TestSendEditDeleteChannelMessage(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	trigger, err := srv.Mention(guildID, channelID, alice, "hi")
	mustNoErr(t, err, "mention")
	ev := rec.event(t, "msg:"+trigger.ID)

	to := platforms.Target{Workspace: ev.Workspace, Channel: ev.Channel, User: ev.User.ID, ReplyTo: ev.MessageID}
	mustNoErr(t, a.Typing(ctx, to), "typing")
	ref, err := a.Send(ctx, to, platforms.Message{
		Text:    "@everyone hello <@" + alice.ID + ">",
		Buttons: []platforms.LinkButton{{Label: "Open", URL: "https://example.com/a"}},
	})
	mustNoErr(t, err, "send")
	if ref.Channel != channelID || ref.ID == "" || ref.Extra != "" {
		t.Fatalf("ref = %+v", ref)
	}
	got, _ := srv.Message(string(ref.ID))
	if got.ReplyTo != trigger.ID || got.Content != "@everyone hello <@"+alice.ID+">" {
		t.Errorf("message = %+v", got)
	}
	if diff := cmp.Diff([]discordtest.Button{{Label: "Open", URL: "https://example.com/a", Style: 5}}, got.Buttons); diff != "" {
		t.Errorf("buttons (-want +got):\n%s", diff)
	}
	body := srv.CallsTo("POST", "/channels/{id}/messages")[0].Body.(map[string]any)
	if ref := body["message_reference"].(map[string]any); ref["fail_if_not_exists"] != false {
		t.Errorf("message_reference = %v, want a soft reference", ref)
	}

	ref2, err := a.Edit(ctx, ref, platforms.Message{Text: "edited"})
	mustNoErr(t, err, "edit")
	if ref2 != ref {
		t.Errorf("Edit returned %+v, want the same ref", ref2)
	}
	got, _ = srv.Message(string(ref.ID))
	if got.Content != "edited" || got.Edits != 1 || len(got.Buttons) != 0 {
		t.Errorf("after edit = %+v (buttons must be cleared)", got)
	}
	mustNoErr(t, a.Delete(ctx, ref), "delete")
	if got, _ = srv.Message(string(ref.ID)); !got.Deleted {
		t.Error("message not deleted")
	}
	if n := srv.CountCalls("POST", "/channels/{id}/typing"); n != 1 {
		t.Errorf("typing calls = %d", n)
	}
	srv.AssertNoPings(t)
	if len(got.AllowedMentions) != 2 {
		t.Errorf("allowed_mentions seen = %d, want create + edit", len(got.AllowedMentions))
	}
}

func TestSendToThreadAndDM(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)

	ref, err := a.Send(ctx, platforms.Target{Channel: parentID, Thread: threadID}, platforms.Message{Text: "in the thread"})
	mustNoErr(t, err, "thread")
	if ref.Channel != threadID {
		t.Errorf("thread ref = %+v", ref)
	}
	ref, err = a.Send(ctx, platforms.Target{DM: true, User: platforms.UserID(alice.ID)}, platforms.Message{Text: "psst"})
	mustNoErr(t, err, "dm")
	if string(ref.Channel) != srv.DMChannel(alice.ID) {
		t.Errorf("dm ref = %+v", ref)
	}
	mustNoErr(t, a.SendEphemeral(ctx, platforms.Target{Channel: channelID, User: platforms.UserID(alice.ID)}, platforms.Message{Text: "only you"}), "ephemeral")
	msgs := srv.MessagesIn(srv.DMChannel(alice.ID))
	if len(msgs) != 2 || msgs[1].Content != "only you" {
		t.Errorf("dm messages = %+v", msgs)
	}
	if _, err := a.Send(ctx, platforms.Target{}, platforms.Message{Text: "nowhere"}); err == nil {
		t.Error("send without a channel succeeded")
	}
	srv.AssertNoPings(t)
}

func TestMessageChecks(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	to := platforms.Target{Channel: channelID}

	long := strings.Repeat("a", 2001)
	if _, err := a.Send(ctx, to, platforms.Message{Text: long}); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("send 2001 = %v, want ErrTooLong", err)
	}
	ref, err := a.Send(ctx, to, platforms.Message{Text: strings.Repeat("好", 2000)})
	mustNoErr(t, err, "2000 CJK runes")
	if _, err := a.Edit(ctx, ref, platforms.Message{Text: strings.Repeat("🙂", 2001)}); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("edit 2001 = %v, want ErrTooLong", err)
	}
	if err := a.SendEphemeral(ctx, platforms.Target{User: platforms.UserID(alice.ID)}, platforms.Message{Text: long}); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("ephemeral 2001 = %v, want ErrTooLong", err)
	}
	if n := srv.CountCalls("POST", "/channels/{id}/messages") + srv.CountCalls("PATCH", "/channels/{id}/messages/{mid}"); n != 1 {
		t.Errorf("requests = %d, want only the valid send", n)
	}
	for _, m := range []platforms.Message{
		{},
		{Text: "x", Buttons: []platforms.LinkButton{{Label: "", URL: "https://x"}}},
		{Text: "x", Buttons: make([]platforms.LinkButton, 26)},
	} {
		if _, err := a.Send(ctx, to, m); err == nil {
			t.Errorf("send %+v succeeded", m)
		}
	}
	// Many buttons are laid out five per row.
	var btns []platforms.LinkButton
	for range 7 {
		btns = append(btns, platforms.LinkButton{Label: strings.Repeat("l", 100), URL: "https://example.com"})
	}
	ref, err = a.Send(ctx, to, platforms.Message{Buttons: btns})
	mustNoErr(t, err, "buttons only")
	if got, _ := srv.Message(string(ref.ID)); len(got.Buttons) != 7 {
		t.Errorf("buttons = %d", len(got.Buttons))
	}
}

func TestRateLimitIsReturnedNotRetried(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	to := platforms.Target{Channel: channelID}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "v1"})
	mustNoErr(t, err, "send")

	srv.FailNext("PATCH", "/channels/{id}/messages/{mid}", http.StatusTooManyRequests, 1)
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "v2"})
	rl, ok := asRateLimit(err)
	if !ok || rl.Platform != "discord" || rl.RetryAfter != discordtest.FailRetryAfter {
		t.Fatalf("edit = %v, want *platforms.RateLimitError with RetryAfter %s", err, discordtest.FailRetryAfter)
	}
	if n := srv.CountCalls("PATCH", "/channels/{id}/messages/{mid}"); n != 1 {
		t.Errorf("PATCH requests = %d, want exactly 1 (no retry by discordgo)", n)
	}

	srv.FailNext("POST", "/channels/{id}/messages", http.StatusTooManyRequests, 1)
	if _, err := a.Send(ctx, to, platforms.Message{Text: "x"}); err == nil {
		t.Fatal("send succeeded through a 429")
	} else if _, ok := asRateLimit(err); !ok {
		t.Errorf("send = %v, want a rate limit error", err)
	}

	// A route limit: the second edit in the window is refused.
	srv.RateLimit("PATCH /channels/{id}/messages/{mid}", 1)
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "v3"})
	mustNoErr(t, err, "first edit in window")
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "v4"})
	if rl, ok := asRateLimit(err); !ok || rl.RetryAfter <= 0 || rl.RetryAfter > time.Second {
		t.Errorf("second edit = %v, want a rate limit under 1 s", err)
	}
	if got, _ := srv.Message(string(ref.ID)); got.Content != "v3" {
		t.Errorf("content = %q, want v3", got.Content)
	}

	// Interaction webhook edits too.
	in, err := srv.SlashCommand(guildID, channelID, alice, "ask", map[string]string{"message": "q"})
	mustNoErr(t, err, "slash")
	ev := rec.event(t, "int:"+in.ID)
	iref, err := a.Send(ctx, platforms.Target{Channel: ev.Channel, Interaction: ev.Interaction}, platforms.Message{Text: "a"})
	mustNoErr(t, err, "answer")
	srv.FailNext("PATCH", "/webhooks/{app}/{token}/messages/{mid}", http.StatusTooManyRequests, 1)
	_, err = a.Edit(ctx, iref, platforms.Message{Text: "b"})
	if _, ok := asRateLimit(err); !ok {
		t.Errorf("interaction edit = %v, want a rate limit error", err)
	}
	if strings.Contains(err.Error(), in.Token) || strings.Contains(errors.Unwrap(err).Error(), in.Token) {
		t.Errorf("error leaks the interaction token: %v / %v", err, errors.Unwrap(err))
	}
	if n := srv.CountCalls("PATCH", "/webhooks/{app}/{token}/messages/{mid}"); n != 2 {
		t.Errorf("webhook PATCHes = %d, want 2 (answer + the limited edit)", n)
	}
}

func TestRateLimitWithoutJSONBody(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("<html>slow down</html>"))
	}))
	t.Cleanup(proxy.Close)
	cfg := Config{Token: "t", ApplicationID: "1", APIURL: proxy.URL + "/api/v9", HTTPClient: &http.Client{Transport: loopbackOnly{}}}
	a, err := New(cfg, testLogger(t))
	mustNoErr(t, err, "New")
	_, err = a.Edit(t.Context(), platforms.MessageRef{Channel: "1", ID: "2"}, platforms.Message{Text: "x"})
	if rl, ok := asRateLimit(err); !ok || rl.RetryAfter != 3*time.Second {
		t.Errorf("edit = %v, want a rate limit of 3s from Retry-After", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("hits = %d, want 1", n)
	}
}

func TestUpdateBudgets(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Token: "t", ApplicationID: "app1"}, nil)
	mustNoErr(t, err, "New")
	got := a.UpdateBudgets(platforms.MessageRef{Channel: "c1", ID: "m1"})
	want := []platforms.Budget{{Key: "discord:chan:c1", Rate: 1, Burst: 5}, {Key: "discord:bot:app1", Rate: 44, Burst: 5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("channel budgets (-want +got):\n%s", diff)
	}
	h := handle{appID: "app1", channelID: "c1", token: "secret-token", received: time.Unix(100, 0)}
	got = a.UpdateBudgets(platforms.MessageRef{Channel: "c1", ID: "m1", Extra: refExtra(refOriginal, h)})
	want = []platforms.Budget{{Key: "discord:int:" + tokenHash("secret-token"), Rate: 1, Burst: 5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("interaction budgets (-want +got):\n%s", diff)
	}
}

func TestSendBudgets(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Token: "t", ApplicationID: "app1"}, nil)
	mustNoErr(t, err, "New")
	for _, c := range []struct {
		name string
		to   platforms.Target
		key  string
	}{
		{"channel", platforms.Target{Channel: "c1"}, "discord:chan:c1"},
		{"thread", platforms.Target{Channel: "c1", Thread: "t1"}, "discord:chan:t1"},
	} {
		want := []platforms.Budget{{Key: c.key, Rate: 1, Burst: 5}, {Key: "discord:bot:app1", Rate: 44, Burst: 5}}
		if diff := cmp.Diff(want, a.SendBudgets(c.to)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	// An interaction answer has its own budget, outside the channel's (an
	// /ask right after a busy reply in the channel does not wait for it).
	h := handle{appID: "app1", channelID: "c1", token: "secret-token", received: time.Unix(100, 0)}
	want := []platforms.Budget{{Key: "discord:int:" + tokenHash("secret-token"), Rate: 1, Burst: 5}}
	if diff := cmp.Diff(want, a.SendBudgets(platforms.Target{Channel: "c1", Interaction: h.encode()})); diff != "" {
		t.Errorf("interaction budgets (-want +got):\n%s", diff)
	}
}

// discord.global_rate sets the bot budget (a tenth as the burst, the rest
// as the rate: never more than the limit in a second) for channel
// messages and edits; interaction answers and edits keep their own webhook
// budget whatever it is (Discord exempts them from the global limit); a
// negative rate is refused.
func TestGlobalRateBudget(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Token: "t", ApplicationID: "app1", GlobalRate: 500}, nil)
	mustNoErr(t, err, "New")
	bot := platforms.Budget{Key: "discord:bot:app1", Rate: 440, Burst: 50}
	want := []platforms.Budget{{Key: "discord:chan:c1", Rate: 1, Burst: 5}, bot}
	if diff := cmp.Diff(want, a.SendBudgets(platforms.Target{Channel: "c1"})); diff != "" {
		t.Errorf("send budgets at 500/s (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, a.UpdateBudgets(platforms.MessageRef{Channel: "c1", ID: "m1"})); diff != "" {
		t.Errorf("update budgets at 500/s (-want +got):\n%s", diff)
	}
	h := handle{appID: "app1", channelID: "c1", token: "secret-token", received: time.Unix(100, 0)}
	for name, got := range map[string][]platforms.Budget{
		"send":   a.SendBudgets(platforms.Target{Channel: "c1", Interaction: h.encode()}),
		"update": a.UpdateBudgets(platforms.MessageRef{Channel: "c1", ID: "m1", Extra: refExtra(refOriginal, h)}),
	} {
		for _, b := range got {
			if b.Key == bot.Key {
				t.Errorf("interaction %s draws from the global budget: %v", name, got)
			}
		}
		if len(got) != 1 || got[0].Key != "discord:int:"+tokenHash("secret-token") {
			t.Errorf("interaction %s budgets = %v, want its webhook budget only", name, got)
		}
	}
	if _, err := New(Config{Token: "t", ApplicationID: "app1", GlobalRate: -1}, nil); err == nil || !strings.Contains(err.Error(), "global_rate") {
		t.Errorf("New with global_rate -1: err = %v, want one naming global_rate", err)
	}
}

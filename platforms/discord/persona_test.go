package discord

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

var ada = &platforms.Persona{Name: "Ada", AvatarURL: "https://cdn.example.com/ada.png"}

func TestPersonaWebhookCreateReuseEditInChannelAndThread(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)

	ref, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: parentID, ReplyTo: "1"},
		platforms.Message{Text: "@everyone hello", As: ada})
	mustNoErr(t, err, "send as ada")
	hooks := srv.Webhooks(parentID)
	if len(hooks) != 1 || hooks[0].Name != webhookName || hooks[0].ApplicationID != srv.AppID() {
		t.Fatalf("webhooks = %+v, want one of the bridge's", hooks)
	}
	if ref.Channel != parentID || !strings.HasPrefix(ref.Extra, "w1:"+hooks[0].ID+":") || strings.Contains(ref.Extra, hooks[0].Token) {
		t.Fatalf("ref = %+v: want a webhook ref without the token", ref)
	}
	got, _ := srv.Message(string(ref.ID))
	if got.WebhookID != hooks[0].ID || got.Username != "Ada · SecondMe" || got.AvatarURL != ada.AvatarURL || got.Content != "@everyone hello" {
		t.Fatalf("message = %+v", got)
	}
	exec := srv.CallsTo("POST", "/webhooks/{id}/{token}")
	if len(exec) != 1 || exec[0].Query.Get("wait") != "true" || exec[0].Query.Has("thread_id") {
		t.Fatalf("executions = %+v", exec)
	}

	// In a thread: the same webhook (of the parent channel), thread_id set.
	tref, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: parentID, Thread: threadID}, platforms.Message{Text: "in the thread", As: ada})
	mustNoErr(t, err, "send in thread")
	if n := srv.CountCalls("POST", "/channels/{id}/webhooks"); n != 1 {
		t.Errorf("webhook creations = %d, want 1 (reused)", n)
	}
	if tm, _ := srv.Message(string(tref.ID)); tm.ChannelID != threadID || tref.Channel != threadID || tm.WebhookID != hooks[0].ID {
		t.Errorf("thread message = %+v ref = %+v", tm, tref)
	}
	if q := srv.CallsTo("POST", "/webhooks/{id}/{token}")[1].Query; q.Get("thread_id") != threadID {
		t.Errorf("thread execution query = %v", q)
	}

	// Streaming edits go to the webhook message route, with thread_id.
	for _, text := range []string{"in the thread, more", "in the thread, done"} {
		r2, err := a.Edit(ctx, tref, platforms.Message{Text: text, As: ada})
		mustNoErr(t, err, "edit in thread")
		if r2 != tref {
			t.Errorf("edit moved the message: %+v", r2)
		}
	}
	if tm, _ := srv.Message(string(tref.ID)); tm.Content != "in the thread, done" || tm.Edits != 2 {
		t.Errorf("thread message after edits = %+v", tm)
	}
	patches := srv.CallsTo("PATCH", "/webhooks/{id}/{token}/messages/{mid}")
	if len(patches) != 2 || patches[0].Query.Get("thread_id") != threadID {
		t.Errorf("webhook edits = %+v", patches)
	}
	if _, err := a.Edit(ctx, ref, platforms.Message{Text: "channel edit"}); err != nil {
		t.Fatalf("edit in channel: %v", err)
	}
	if b := a.UpdateBudgets(tref); len(b) != 2 || b[0].Key != "discord:hook:"+hooks[0].ID || b[1].Key != "discord:chan:"+threadID {
		t.Errorf("update budgets = %+v", b)
	}
	mustNoErr(t, a.Delete(ctx, tref), "delete")
	if tm, _ := srv.Message(string(tref.ID)); !tm.Deleted {
		t.Error("webhook message not deleted")
	}
	srv.AssertNoPings(t)
}

func TestPersonaWebhookFoundAfterRestart(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	foreign := srv.AddWebhook(parentID, "someone else's", "999")
	ours := srv.AddWebhook(parentID, "renamed by a moderator", srv.AppID())
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	ref, err := a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "hi", As: ada})
	mustNoErr(t, err, "send")
	if n := srv.CountCalls("POST", "/channels/{id}/webhooks"); n != 0 {
		t.Errorf("created %d webhooks, want ours found again", n)
	}
	if got, _ := srv.Message(string(ref.ID)); got.WebhookID != ours.ID || got.WebhookID == foreign.ID {
		t.Errorf("posted through %s, want %s", got.WebhookID, ours.ID)
	}
	// A fresh adapter (a restart, another replica) edits the message: it
	// finds the token again from the webhook id in the ref.
	b, _ := startAdapter(t, srv, nil)
	if _, err := b.Edit(ctx, ref, platforms.Message{Text: "edited elsewhere"}); err != nil {
		t.Fatalf("edit from a new adapter: %v", err)
	}
	if got, _ := srv.Message(string(ref.ID)); got.Content != "edited elsewhere" {
		t.Errorf("content = %q", got.Content)
	}
}

func TestPersonaFallsBackToTheBot(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)

	// A DM: no webhooks there.
	dm, err := a.Send(ctx, platforms.Target{DM: true, User: platforms.UserID(alice.ID)}, platforms.Message{Text: "in a DM", As: ada})
	mustNoErr(t, err, "dm")
	if got, _ := srv.Message(string(dm.ID)); got.WebhookID != "" || got.Author.ID != srv.BotID() || dm.Extra != "" {
		t.Errorf("dm message = %+v", got)
	}
	// No Manage Webhooks: the bot answers, and the channel is not asked
	// again on the next message.
	srv.DenyWebhooks(channelID, true)
	for i := range 2 {
		ref, err := a.Send(ctx, platforms.Target{Channel: channelID, ReplyTo: ""}, platforms.Message{Text: "no permission", As: ada})
		mustNoErr(t, err, "send without permission")
		if got, _ := srv.Message(string(ref.ID)); got.WebhookID != "" || got.Author.ID != srv.BotID() {
			t.Errorf("send %d: message = %+v, want the bot's", i, got)
		}
	}
	if n := srv.CountCalls("GET", "/channels/{id}/webhooks"); n != 1 {
		t.Errorf("webhook lookups = %d, want 1 (refusal remembered)", n)
	}
	if len(srv.Webhooks(channelID)) != 0 {
		t.Error("a webhook was created without permission")
	}
}

func TestPersonaDeletedWebhook(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	first, err := a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "one", As: ada})
	mustNoErr(t, err, "first")
	old := srv.Webhooks(parentID)[0]
	srv.DeleteWebhook(old.ID)

	// Send: the adapter forgets it and creates a new one once.
	second, err := a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "two", As: ada})
	mustNoErr(t, err, "second")
	hooks := srv.Webhooks(parentID)
	if len(hooks) != 1 || hooks[0].ID == old.ID {
		t.Fatalf("webhooks = %+v, want a new one", hooks)
	}
	if got, _ := srv.Message(string(second.ID)); got.WebhookID != hooks[0].ID || got.Username != "Ada · SecondMe" {
		t.Errorf("second = %+v", got)
	}
	// Edit of a message of the deleted webhook: moved (posted again).
	moved, err := a.Edit(ctx, first, platforms.Message{Text: "one, edited", As: ada})
	mustNoErr(t, err, "edit of an orphan")
	if moved.ID == first.ID {
		t.Fatal("edit of a deleted webhook's message was not moved")
	}
	if got, _ := srv.Message(string(moved.ID)); got.Content != "one, edited" || got.WebhookID != hooks[0].ID {
		t.Errorf("moved = %+v", got)
	}

	// Deleted again and creation refused: the bot answers.
	srv.DeleteWebhook(hooks[0].ID)
	srv.FailNext("POST", "/channels/{id}/webhooks", 403, 1)
	third, err := a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "three", As: ada})
	mustNoErr(t, err, "third")
	if got, _ := srv.Message(string(third.ID)); got.Author.ID != srv.BotID() || got.WebhookID != "" {
		t.Errorf("third = %+v, want the bot's", got)
	}
}

func TestReplyToAvatarIsAddressed(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	ref, err := a.Send(ctx, platforms.Target{Channel: channelID}, platforms.Message{Text: "I am Ada's avatar", As: ada})
	mustNoErr(t, err, "send")
	m, err := srv.Reply(guildID, channelID, alice, string(ref.ID), "tell me more")
	mustNoErr(t, err, "reply")
	if ev := rec.event(t, "msg:"+m.ID); !ev.Addressed {
		t.Errorf("reply to the avatar: %+v, want addressed", ev)
	}
	// A new process knows nothing of the webhook: it looks it up.
	srv2hook := srv.Webhooks(channelID)[0]
	_, rec2 := startAdapter(t, srv, nil)
	m2, err := srv.Reply(guildID, channelID, alice, string(ref.ID), "and more")
	mustNoErr(t, err, "second reply")
	if ev := rec2.event(t, "msg:"+m2.ID); !ev.Addressed {
		t.Errorf("reply seen by a fresh adapter: %+v, want addressed (webhook %s)", ev, srv2hook.ID)
	}
	// A reply to someone else's webhook message is not addressed to the
	// bridge (and, not mentioning it, is not handed over).
	other := srv.AddWebhook(channelID, "news", "999")
	m3, err := srv.SendMessageCreate(&discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Type: discordgo.MessageTypeReply, Content: "interesting",
		Author: alice.DiscordUser(), Member: &discordgo.Member{},
		MessageReference:  &discordgo.MessageReference{MessageID: "42", ChannelID: channelID},
		ReferencedMessage: &discordgo.Message{ID: "42", ChannelID: channelID, WebhookID: other.ID, Author: &discordgo.User{ID: other.ID, Bot: true}},
	})
	mustNoErr(t, err, "reply to a foreign webhook")
	rec2.ignoredID(t, m3.ID)
}

func TestPersonaUsername(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	for in, want := range map[string]string{
		"Ada":               "Ada · SecondMe",
		"  Ada   Lovelace ": "Ada Lovelace · SecondMe",
		"Discord Ada":       "Ada · SecondMe",
		"cl@yde#: ```x```":  "x · SecondMe", // "cl@yde" loses "@", then "clyde"
		"discdiscordord":    "SecondMe",
		"CLYDE":             "SecondMe",
		"":                  "SecondMe",
		long:                strings.Repeat("é", 80-utf8.RuneCountInString(personaSuffix)-1) + "…" + personaSuffix,
	} {
		got := personaUsername(in)
		if got != want {
			t.Errorf("personaUsername(%q) = %q, want %q", in, got, want)
		}
		if n := utf8.RuneCountInString(got); n > 80 || forbiddenInUsername.MatchString(got) {
			t.Errorf("personaUsername(%q) = %q: %d chars or forbidden", in, got, n)
		}
	}
}

func TestPersonaRateLimitIsTheBridges(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	_, err := a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "one", As: ada})
	mustNoErr(t, err, "first")
	srv.FailNext("POST", "/webhooks/{id}/{token}", 429, 1)
	before := len(srv.CallsTo("POST", "/channels/{id}/messages"))
	_, err = a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "two", As: ada})
	if _, ok := asRateLimit(err); !ok {
		t.Fatalf("Send on a rate-limited webhook = %v, want *platforms.RateLimitError", err)
	}
	if after := len(srv.CallsTo("POST", "/channels/{id}/messages")); after != before {
		t.Error("a rate limit made the bot post instead (the bridge retries, not the adapter)")
	}
	// A failing lookup (500) is not a reason to drop the answer: the bot
	// posts it.
	srv.FailNext("GET", "/channels/{id}/webhooks", 500, 1)
	ref, err := a.Send(ctx, platforms.Target{Channel: channelID}, platforms.Message{Text: "three", As: ada})
	mustNoErr(t, err, "send with a failing lookup")
	if got, _ := srv.Message(string(ref.ID)); got.Author.ID != srv.BotID() {
		t.Errorf("message = %+v, want the bot's", got)
	}
}

func TestRedactWebhookTokens(t *testing.T) {
	t.Parallel()
	in := `HTTP 200 [{"id":"1","token":"whtok-secret-1","name":"x"},{"token" : "whtok-secret-2"}] /webhooks/1/whtok-secret-3/messages/2`
	out := redact(in)
	if strings.Contains(out, "whtok-secret") {
		t.Errorf("redact left a token: %s", out)
	}
}

func TestPersonaEditTransientLookupFailureDoesNotRepost(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	ref, err := a.Send(ctx, platforms.Target{Channel: parentID}, platforms.Message{Text: "one", As: ada})
	mustNoErr(t, err, "send")
	// A fresh adapter must look the webhook up to edit; the lookup fails.
	b, _ := startAdapter(t, srv, nil)
	srv.FailNext("GET", "/guilds/{id}/webhooks", 500, 1)
	srv.FailNext("GET", "/channels/{id}/webhooks", 500, 1)
	if _, err := b.Edit(ctx, ref, platforms.Message{Text: "one, more", As: ada}); err == nil {
		t.Fatal("Edit with a failing lookup = nil error")
	}
	if n := len(srv.CallsTo("POST", "/webhooks/{id}/{token}")) + len(srv.CallsTo("POST", "/channels/{id}/messages")); n != 1 {
		t.Errorf("posts = %d, want only the first (no repost on a transient failure)", n)
	}
	// The next edit works.
	if _, err := b.Edit(ctx, ref, platforms.Message{Text: "one, more", As: ada}); err != nil {
		t.Fatalf("second edit: %v", err)
	}
	if got, _ := srv.Message(string(ref.ID)); got.Content != "one, more" {
		t.Errorf("content = %q", got.Content)
	}
}

// Listing and creating a channel's webhook are bot calls Discord counts
// against the global limit: each waits for a token of the bot budget
// (platforms.BudgetUser); a webhook already known costs none, and a wait
// that ends without a token posts as the bot without touching the webhook
// routes.
func TestPersonaWebhookSetupDrawsFromTheBotBudget(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	var (
		mu    sync.Mutex
		takes []string
		fail  bool
	)
	caps := platforms.ResolveCaps(a)
	if caps.BudgetUser == nil {
		t.Fatal("the Discord adapter is not a platforms.BudgetUser")
	}
	caps.BudgetUser.UseBudgets(func(_ context.Context, budgets []platforms.Budget) error {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range budgets {
			takes = append(takes, b.Key)
		}
		if fail {
			return context.DeadlineExceeded
		}
		return nil
	})
	bot := a.botBudget().Key
	to := platforms.Target{Workspace: guildID, Channel: parentID}
	_, err := a.Send(ctx, to, platforms.Message{Text: "first", As: ada})
	mustNoErr(t, err, "send as ada")
	mu.Lock()
	got := slices.Clone(takes)
	mu.Unlock()
	// The guild's webhooks are listed (one call for all its channels), not
	// the channel's.
	lists, chanLists, creates := srv.CountCalls("GET", "/guilds/{id}/webhooks"), srv.CountCalls("GET", "/channels/{id}/webhooks"), srv.CountCalls("POST", "/channels/{id}/webhooks")
	if len(got) != lists+chanLists+creates || lists != 1 || chanLists != 0 || creates != 1 {
		t.Fatalf("bot budget taken %v for %d guild lists, %d channel lists and %d creates, want one token per call, one guild list and one create", got, lists, chanLists, creates)
	}
	for _, k := range got {
		if k != bot {
			t.Fatalf("webhook setup took %q, want the bot budget %q", k, bot)
		}
	}
	_, err = a.Send(ctx, to, platforms.Message{Text: "second", As: ada})
	mustNoErr(t, err, "second send as ada")
	mu.Lock()
	if len(takes) != 2 {
		t.Errorf("a known webhook took the bot budget again: %v", takes)
	}
	fail = true
	mu.Unlock()
	ref, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: channelID}, platforms.Message{Text: "no token", As: ada})
	mustNoErr(t, err, "send when the budget wait fails")
	if m, _ := srv.Message(string(ref.ID)); m.WebhookID != "" {
		t.Errorf("posted through a webhook without its setup's token: %+v", m)
	}
	// Another channel of the guild: the listing made for the first one
	// answers for it, and its create waits for a token that never comes.
	if g, c := srv.CountCalls("GET", "/guilds/{id}/webhooks"), srv.CountCalls("GET", "/channels/{id}/webhooks"); g != 1 || c != 0 {
		t.Errorf("webhook list calls = %d of the guild and %d of channels, want 1 and 0", g, c)
	}
}

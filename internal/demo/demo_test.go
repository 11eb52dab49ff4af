package demo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func startEnv(t *testing.T) *Env {
	t.Helper()
	e, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// TestAvatarReply: the avatar's answers are picked by whole words, and the
// story is long enough to make the bridge split it.
func TestAvatarReply(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		"tell me a long story":    longStory,
		"show me some Go code":    codeReply,
		"hi, who are you?":        "Hi! I'm **Ada**",
		"this is nothing special": "You said: “this is nothing special”",
		"good morning":            "You said:", // "go" inside a word does not count
	} {
		if got := AvatarReply(msg); !strings.HasPrefix(got, want) {
			t.Errorf("AvatarReply(%q) = %.60q…, want it to start with %.60q", msg, got, want)
		}
	}
	if n := utf8.RuneCountInString(longStory); n <= 2000 {
		t.Errorf("the story has %d characters: too short to be split into two Discord messages", n)
	}
}

// TestAvatarScript: the fake SecondMe streams the reply in several deltas
// that add up to exactly the reply.
func TestAvatarScript(t *testing.T) {
	t.Parallel()
	for _, msg := range Conversation {
		s := avatarScript(secondmetest.ChatCall{Message: msg})
		if len(s.Deltas) < 5 {
			t.Errorf("%q: %d deltas, want a visible stream", msg, len(s.Deltas))
		}
		if got := strings.Join(s.Deltas, ""); got != AvatarReply(msg) {
			t.Errorf("%q: deltas join to %q", msg, got)
		}
	}
}

// TestConfigYAMLNeedsNoSetup: the config points everything at the fakes
// and 127.0.0.1, with no placeholder left.
func TestConfigYAMLNeedsNoSetup(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	y := e.ConfigYAML("127.0.0.1:1234", "/tmp/x/demo.db", false)
	for _, want := range []string{`public_url: "http://127.0.0.1:1234"`, e.SM.BaseURL(), e.DC.APIURL(), "level: warn", "driver: bolt"} {
		if !strings.Contains(y, want) {
			t.Errorf("config lacks %q:\n%s", want, y)
		}
	}
	if strings.Contains(y, "CHANGE-ME") || strings.Contains(y, "https://") {
		t.Errorf("config points outside the machine or keeps a placeholder:\n%s", y)
	}
}

// TestPageSendChecksInput: the page refuses empty, too long and unknown
// command input with a reason, and posts the rest as the demo user's
// mention, which the view then shows in order with the bot's messages.
func TestPageSendChecksInput(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	p := NewPage(e, slog.New(slog.DiscardHandler))
	ctx := t.Context()
	for text, want := range map[string]string{
		"":                        "type a message first",
		strings.Repeat("字", 1979): "at most 1978 characters, this one has 1979",
		"/bogus":                  "unknown command /bogus",
	} {
		var ie *inputError
		if err := p.Send(ctx, text); !errors.As(err, &ie) || !strings.Contains(err.Error(), want) {
			t.Errorf("Send(%.10q) = %v, want an input error containing %q", text, err, want)
		}
	}
	// 1978 characters plus "<@bot> " is Discord's 2000: accepted (the fake
	// then refuses it only because no bridge is connected to its gateway).
	var ie *inputError
	if err := p.Send(ctx, strings.Repeat("字", 1978)); err == nil || errors.As(err, &ie) {
		t.Errorf("Send of 1978 characters = %v, want it passed to the fake Discord", err)
	}
	if v := p.tl.view(time.Now()); len(v.Messages) != 0 || v.Typing {
		t.Errorf("view = %+v, want nothing yet", v)
	}
}

// TestViewShowsTypingAndBotMessages: a typing call shows the indicator
// until the bot posts; the bot's message is in the view with its edits.
func TestViewShowsTypingAndBotMessages(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	tl := &timeline{env: e}
	call := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.WithoutCancel(t.Context()), method, e.DC.APIURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bot "+e.DC.Token())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s = %d", method, path, resp.StatusCode)
		}
	}
	call("POST", "/channels/"+ChannelID+"/typing", "")
	if v := tl.view(time.Now()); !v.Typing {
		t.Error("no typing indicator after a typing call")
	}
	if v := tl.view(time.Now().Add(typingLasts)); v.Typing {
		t.Error("the typing indicator does not expire")
	}
	call("POST", "/channels/"+ChannelID+"/messages", `{"content":"Hel","allowed_mentions":{"parse":[]}}`)
	v := tl.view(time.Now())
	if v.Typing {
		t.Error("typing still shown after the bot posted")
	}
	if len(v.Messages) != 1 || !v.Messages[0].Bot || v.Messages[0].Content != "Hel" || v.Messages[0].Author != discordtest.DefaultBotName {
		t.Errorf("view = %+v", v.Messages)
	}
}

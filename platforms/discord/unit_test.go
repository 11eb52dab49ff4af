package discord

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	bob := &discordgo.User{ID: "22", Username: "bob"}
	ann := &discordgo.User{ID: "33", Username: "ann", GlobalName: "Ann"}
	for _, tc := range []struct{ in, want string }{
		{"<@1> hello", "hello"},
		{"<@!1> hello", "hello"},
		{"hey <@1> how are you", "hey how are you"},
		{"hey <@1>\n```go\nx := 1\n```", "hey \n```go\nx := 1\n```"},
		{"ask <@22> and <@!33>", "ask @bob and @Ann"},
		{"unknown <@44> stays", "unknown <@44> stays"},
		{"<@1>", ""},
		{"role <@&1> and channel <#1>", "role <@&1> and channel <#1>"},
	} {
		m := &discordgo.Message{Content: tc.in, Mentions: []*discordgo.User{{ID: "1"}, bob, ann}}
		if got := cleanText(m, "1"); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestThreadName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"what is the meaning of life", "what is the meaning of life"},
		{"  multi\nline\ttext ", "multi line text"},
		{"", "…"},
		{" \n\t", "…"},
		{strings.Repeat("a", 150), strings.Repeat("a", 99) + "…"},
		{strings.Repeat("word ", 30), strings.TrimSpace(strings.Repeat("word ", 12))},
		{"你好世界 这是一个很长的问题", "你好世界 这是一个很长的问题"},
	} {
		if got := threadName(tc.text); got != tc.want {
			t.Errorf("threadName(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestHandleRoundTrip(t *testing.T) {
	t.Parallel()
	h := handle{appID: "app", channelID: "chan", token: "to:ken.with-odd_chars", received: time.Unix(1700000000, 0), ephemeral: true}
	got, err := decodeHandle(h.encode())
	mustNoErr(t, err, "decode")
	if got != h {
		t.Errorf("round trip = %+v, want %+v", got, h)
	}
	kind, h2, err := parseExtra(refExtra(refEphemeralFollowup, h))
	if err != nil || kind != refEphemeralFollowup || h2 != h {
		t.Errorf("parseExtra = %q %+v %v", kind, h2, err)
	}
	_, err = decodeHandle("i1:app:chan:1:0:secret-token-x" + ":" + "") // empty token after the 6th colon is still a token
	mustNoErr(t, err, "token with trailing colon")
	_, err = decodeHandle("i1:app:chan:1:0:")
	if !errors.Is(err, errBadHandle) || strings.Contains(err.Error(), "app") {
		t.Errorf("empty token = %v", err)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{
			"PATCH https://discord.com/api/v9/webhooks/123/aW50ZXJhY3Rpb246OjE/messages/@original: timeout",
			"PATCH https://discord.com/api/v9/webhooks/123/[redacted]/messages/@original: timeout",
		},
		{"https://x/api/v9/interactions/9/tok.en-1/callback", "https://x/api/v9/interactions/9/[redacted]/callback"},
		{"Rate limit exceeded on https://x/webhooks/1/abc?wait=true", "Rate limit exceeded on https://x/webhooks/1/[redacted]?wait=true"},
		{"token MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123 used", "token [redacted] used"},
		{"https://x/api/v9/channels/1/messages", "https://x/api/v9/channels/1/messages"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAPIErrorRedactsURLs(t *testing.T) {
	t.Parallel()
	// A network failure on a webhook route must not leak the token.
	cfg := Config{
		Token: "t", ApplicationID: "1", APIURL: "http://127.0.0.1:1/api/v9",
		HTTPClient: &http.Client{Transport: loopbackOnly{}, Timeout: time.Second},
	}
	a, err := New(cfg, nil)
	mustNoErr(t, err, "New")
	h := handle{appID: "1", channelID: "2", token: "super-secret-token", received: time.Now()}
	_, err = a.Edit(t.Context(), platforms.MessageRef{ID: "3", Extra: refExtra(refFollowup, h)}, platforms.Message{Text: "x"})
	if err == nil || strings.Contains(err.Error(), "super-secret-token") {
		t.Errorf("error = %v", err)
	}
}

func TestParseAPIURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://discord.com/api/v9":   "https://discord.com/api/v9/",
		"http://127.0.0.1:8080/p/v9/":  "http://127.0.0.1:8080/p/v9/",
		"https://proxy.example.com":    "https://proxy.example.com/",
		"https://proxy.example.com?x=": "",
		"discord.com/api":              "",
		"":                             "",
	} {
		u, err := parseAPIURL(in)
		switch {
		case want == "" && err == nil:
			t.Errorf("parseAPIURL(%q) = %v, want an error", in, u)
		case want != "" && (err != nil || u.String() != want):
			t.Errorf("parseAPIURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
}

func TestNormalizeRateLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, header, want string
	}{
		{`{"message":"x","retry_after":0.5,"global":false}`, "", `{"message":"x","retry_after":0.5,"global":false}`},
		{`<html>cloudflare</html>`, "7", `{"global":false,"message":"rate limited","retry_after":7}`},
		{``, "", `{"global":false,"message":"rate limited","retry_after":0}`},
		{`{"message":"no retry"}`, "1.5", `{"global":false,"message":"rate limited","retry_after":1.5}`},
	} {
		resp := &http.Response{StatusCode: 429, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
		if tc.header != "" {
			resp.Header.Set("Retry-After", tc.header)
		}
		got, _ := io.ReadAll(normalizeRateLimit(resp).Body)
		if string(got) != tc.want {
			t.Errorf("body %q → %s, want %s", tc.body, got, tc.want)
		}
	}
}

func TestComponentsLayout(t *testing.T) {
	t.Parallel()
	var btns []platforms.LinkButton
	for range 6 {
		btns = append(btns, platforms.LinkButton{Label: "L", URL: "https://x"})
	}
	rows := components(btns)
	if len(rows) != 2 || len(rows[0].(discordgo.ActionsRow).Components) != 5 || len(rows[1].(discordgo.ActionsRow).Components) != 1 {
		t.Errorf("rows = %+v", rows)
	}
	b := rows[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
	if diff := cmp.Diff(discordgo.Button{Label: "L", Style: discordgo.LinkButton, URL: "https://x"}, b); diff != "" {
		t.Errorf("button (-want +got):\n%s", diff)
	}
	if got := components(nil); got == nil || len(got) != 0 {
		t.Errorf("no buttons = %#v, want an empty (clearing) list", got)
	}
}

func TestCommandsDefinitions(t *testing.T) {
	t.Parallel()
	specs := platformtest.CommandSpecs()
	set := newCommandSet(specs)
	cmds := Commands(specs)
	if len(cmds) != 11 {
		t.Fatalf("%d commands", len(cmds))
	}
	for _, c := range cmds {
		if c.Type == discordgo.ChatApplicationCommand {
			if _, ok := set.slash[c.Name]; !ok {
				t.Errorf("slash command %q has no mapping", c.Name)
			}
			for _, o := range c.Options {
				if set.slash[c.Name] != o.Name {
					t.Errorf("%s: option %q is not the mapped argument %q", c.Name, o.Name, set.slash[c.Name])
				}
			}
		} else if _, ok := set.message[c.Name]; !ok {
			t.Errorf("menu command %q has no mapping", c.Name)
		}
	}
	// Fresh values each call: callers may modify them.
	cmds[0].Name = "changed"
	if Commands(specs)[0].Name == "changed" {
		t.Error("Commands shares state between calls")
	}
}

// TestMentionTokensMatchTheRegexp: the mention scanner finds exactly what
// the regular expression it replaced finds, on hostile and random texts.
func TestMentionTokensMatchTheRegexp(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`[ \t]*<@!?([0-9]+)>[ \t]*`)
	check := func(s string) {
		t.Helper()
		var got [][]int
		for tok := range mentionTokens(s) {
			got = append(got, []int{tok.start, tok.end, tok.idStart, tok.idEnd})
		}
		if want := re.FindAllStringSubmatchIndex(s, -1); !cmp.Equal(got, want) {
			t.Fatalf("mention tokens of %q = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{
		"", "<", "<@", "<@>", "<@!>", "<@!!1>", "<@1", "<@1 >", "< @1>", "<@<@1>", "<@!<@!2>",
		"<@1><@2>", "<@1>  <@2>", "\t <@1> \t x \t<@!22>\t", "a<@1>b", "<@１>", "<@0123456789012345678901>",
		"<@&1> <#2> <@3>", "x <@abc> <@1>", strings.Repeat("<@", 1000) + "1>", strings.Repeat(" ", 5000) + "<@7>",
		"你好 <@1> 世界", "\n<@1>\n", "<@1>\r\n<@2>",
	} {
		check(s)
	}
	alphabet := []string{"<", "@", "!", ">", "1", "42", " ", "\t", "\n", "a", "é", "&", "#"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		check(b.String())
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/demo"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// TestDemoScript runs `demo --script` as CI and the README do: it exits 0
// after every scripted reply arrived complete, streamed through a create
// and edits, the long one split into two messages.
func TestDemoScript(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, nil, "demo", "--script")
	if code != exitOK {
		t.Fatalf("demo --script exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, line := range demo.Conversation {
		if !strings.Contains(stdout, "› @SecondMe "+line) {
			t.Errorf("stdout does not show the line %q", line)
		}
	}
	for _, want := range []string{
		"is linked", "SecondMe is typing", "[message 1 create ]", "[message 1 edit 1 ]",
		"(message 2 of 2,", "```go", "demo finished: every reply arrived complete.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "level=ERROR") {
		t.Errorf("the bridge logged errors:\n%s", stderr)
	}
}

// TestDemoUsage: a wrong flag is a usage error; help demo documents the
// flags.
func TestDemoUsage(t *testing.T) {
	t.Parallel()
	if code, _, stderr := runCLI(t, nil, "demo", "--nope"); code != exitUsage || !strings.Contains(stderr, "-nope") {
		t.Errorf("demo --nope = %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, nil, "demo", "extra"); code != exitUsage || !strings.Contains(stderr, `unexpected argument "extra"`) {
		t.Errorf("demo extra = %d, %q", code, stderr)
	}
	code, stdout, _ := runCLI(t, nil, "help", "demo")
	if code != exitOK || !strings.Contains(stdout, "--script") || !strings.Contains(stdout, "-listen ADDR") {
		t.Errorf("help demo = %d:\n%s", code, stdout)
	}
	if _, stdout, _ := runCLI(t, nil, "help"); !strings.Contains(stdout, "demo ") {
		t.Errorf("help does not list demo:\n%s", stdout)
	}
}

// startDemo runs `demo` (the page) until the test ends and returns what it
// exposes once the demo user is linked.
func startDemo(t *testing.T) demoRun {
	t.Helper()
	c, stdout, stderr := testCLI(nil)
	started := make(chan demoRun, 1)
	c.onDemo = func(r demoRun) { started <- r }
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	exit := make(chan int, 1)
	go func() { exit <- c.run(ctx, []string{"demo"}) }()
	var run demoRun
	select {
	case run = <-started:
	case code := <-exit:
		cancel()
		t.Fatalf("demo exited with %d before starting\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	case <-time.After(e2eWait):
		cancel()
		t.Fatalf("demo did not start\nstderr:\n%s", stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exit:
			if code != exitOK {
				t.Errorf("demo exited with %d after Ctrl-C\nstderr:\n%s", code, stderr)
			}
		case <-time.After(e2eWait):
			t.Errorf("demo did not stop\nstderr:\n%s", stderr)
		}
	})
	if !strings.Contains(stdout.String(), "Open "+run.pageURL+" in a browser") {
		t.Errorf("the page's address is not printed:\n%s", stdout)
	}
	return run
}

// postDemo sends text through the page's input.
func postDemo(t *testing.T, pageURL, text string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	resp, err := http.Post(pageURL+"send", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text())
	}
	return resp.StatusCode, b.String()
}

// TestDemoPageStreamsReply: what the user types on the page reaches the
// bridge as a Discord mention, and the page's event stream shows the reply
// growing through edits until it is the avatar's whole text.
func TestDemoPageStreamsReply(t *testing.T) {
	t.Parallel()
	run := startDemo(t)
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, run.pageURL+"events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events Content-Type = %q", ct)
	}
	if code, msg := postDemo(t, run.pageURL, "hi, who are you?"); code != http.StatusNoContent {
		t.Fatalf("send = %d %q", code, msg)
	}
	want := demo.AvatarReply("hi, who are you?")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	contents := map[string]bool{}
	var sawUser, sawTyping bool
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var v demo.View
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		sawTyping = sawTyping || v.Typing
		var userID string
		for _, m := range v.Messages {
			if !m.Bot && strings.HasSuffix(m.Content, "> hi, who are you?") {
				sawUser, userID = true, m.ID
			}
			if m.Bot && userID != "" && m.ReplyTo == userID {
				contents[m.Content] = true
				if m.Content == want && m.Edits > 0 {
					if len(contents) < 2 {
						t.Errorf("the page saw only the final text, not the stream: %v", contents)
					}
					if !sawTyping {
						t.Error("the page never showed the typing indicator")
					}
					return
				}
			}
		}
	}
	t.Fatalf("the event stream ended (%v) before the whole reply; user message seen: %v; reply states: %v", sc.Err(), sawUser, contents)
}

// TestDemoPageRefusesBadInput: the page's input explains what is wrong.
func TestDemoPageRefusesBadInput(t *testing.T) {
	t.Parallel()
	run := startDemo(t)
	for _, tc := range []struct{ text, want string }{
		{"   ", "type a message first"},
		{strings.Repeat("é", 1979), "at most 1978 characters, this one has 1979"},
		{"/frobnicate", "unknown command /frobnicate"},
	} {
		if code, msg := postDemo(t, run.pageURL, tc.text); code != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
			t.Errorf("send %.20q = %d %q, want 400 containing %q", tc.text, code, msg, tc.want)
		}
	}
	resp, err := http.Post(run.pageURL+"send", "application/json", strings.NewReader("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed body = %d, want 400", resp.StatusCode)
	}
	if code, msg := postDemo(t, run.pageURL, "/whoami"); code != http.StatusNoContent {
		t.Errorf("/whoami = %d %q", code, msg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	if _, err := run.env.DC.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID != "" && strings.Contains(m.Content, demo.AvatarName) && !strings.Contains(m.Content, "Linked as")
	}); err != nil {
		t.Errorf("/whoami from the page got no answer naming the linked account: %v", err)
	}
}

// TestDemoPagePortTaken: a taken page address fails at once with a hint.
func TestDemoPagePortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	code, _, stderr := runCLI(t, nil, "demo", "--listen", ln.Addr().String())
	if code != exitFailure || !strings.Contains(stderr, "listen for the demo page on "+ln.Addr().String()) || !strings.Contains(stderr, "--listen") {
		t.Errorf("demo on a taken port = %d, %q", code, stderr)
	}
}

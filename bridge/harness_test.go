package bridge

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

const (
	testAppID    = "bridge-test"
	testPlatform = "fake"
	waitLong     = 10 * time.Second
)

// harness is one Bridge wired to a fake platform, the fake SecondMe and a
// real store.
type harness struct {
	t      *testing.T
	sm     *secondmetest.Server
	st     store.Store
	p      *platformtest.Platform
	b      *Bridge
	linker *linking.Linker
	obs    *collector
	stop   func()
	seq    atomic.Int64
}

// hopts configure a harness.
type hopts struct {
	store     string // "bolt" (default) or "redis"
	platform  platformtest.Options
	cfg       func(*Config)
	beforeRun func(h *harness)
	noRun     bool
	publicURL string // the linker's public URL (default an unused address)
}

// edits is the platform options of an edit-based platform (no native
// streaming), the usual case in these tests.
func edits() platformtest.Options { return platformtest.Options{NoStream: true} }

func newHarness(t *testing.T, o hopts) *harness {
	t.Helper()
	if o.store == "" {
		o.store = "bolt"
	}
	st := newStore(t, o.store)
	return newHarnessOn(t, o, secondmetest.New(t), st)
}

func newHarnessOn(t *testing.T, o hopts, sm *secondmetest.Server, st store.Store) *harness {
	t.Helper()
	client := sm.Client()
	linker, err := linking.New(linking.LinkerConfig{
		PublicURL: cmpOr(o.publicURL, "http://127.0.0.1:9"),
		Store:     st,
		SecondMe:  client,
		Logger:    testutil.Logger(t, slog.LevelInfo),
		Owner:     "linker-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := &collector{done: make(chan struct{}, 64)}
	cfg := Config{
		Store:        st,
		SecondMe:     client,
		Linker:       linker,
		Logger:       testutil.Logger(t, slog.LevelInfo),
		InstanceID:   "test-1",
		AppID:        testAppID,
		EditInterval: 50 * time.Millisecond,
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	b, err := newObserved(cfg, obs)
	if err != nil {
		t.Fatal(err)
	}
	b.tim.retryDelay = 20 * time.Millisecond
	b.tim.queueIdle = 50 * time.Millisecond
	linker.SetNotifier(b)
	if o.platform.Name == "" {
		o.platform.Name = testPlatform
	}
	p := platformtest.New(o.platform)
	if err := b.AddPlatform(p.As()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sm: sm, st: st, p: p, b: b, linker: linker, obs: obs}
	if o.beforeRun != nil {
		o.beforeRun(h)
	}
	if o.noRun {
		h.stop = b.shutdown
		t.Cleanup(b.shutdown)
		return h
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once atomic.Bool
	h.stop = func() {
		if once.CompareAndSwap(false, true) {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	t.Cleanup(h.stop)
	if err := p.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	return h
}

// link creates a SecondMe user and links the platform user to it with a
// freshly minted token. It returns the link.
func (h *harness) link(platformUser, name string, scopes ...string) store.Link {
	h.t.Helper()
	smID := "sm-" + platformUser
	h.sm.AddUser(secondmetest.User{ID: smID, Name: name, Bio: name + "'s bio"}, scopes...)
	return h.linkAs(platformUser, smID, name)
}

// linkAs links the platform user to an existing SecondMe user.
func (h *harness) linkAs(platformUser, smID, name string) store.Link {
	h.t.Helper()
	tok := h.sm.IssueToken(smID)
	now := time.Now()
	link := store.Link{
		Key:            store.UserKey{Platform: testPlatform, User: platformUser},
		SecondMeUserID: smID,
		Name:           name,
		Token: store.Token{
			AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
			Expiry: tok.Expiry, Scopes: tok.Scopes,
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := h.st.Links().PutLink(h.t.Context(), link); err != nil {
		h.t.Fatal(err)
	}
	return link
}

// msg builds an addressed message event from user in channel (and thread).
func (h *harness) msg(user, channel, thread, text string) platforms.Event {
	id := h.seq.Add(1)
	mid := "m" + itoa(id)
	return platforms.Event{
		Kind:         platforms.EventMessage,
		DedupeIDs:    []string{"msg:" + channel + ":" + mid},
		User:         platforms.User{ID: platforms.UserID(user), DisplayName: user, Locale: "en-US"},
		Workspace:    "G1",
		Channel:      platforms.ChannelID(channel),
		Thread:       platforms.ThreadID(thread),
		Text:         text,
		MessageID:    platforms.MessageID(mid),
		Addressed:    true,
		HumanTrigger: true,
	}
}

// cmd builds a command event.
func (h *harness) cmd(user, channel, name, args string) platforms.Event {
	id := h.seq.Add(1)
	return platforms.Event{
		Kind:         platforms.EventCommand,
		DedupeIDs:    []string{"int:" + itoa(id)},
		User:         platforms.User{ID: platforms.UserID(user), DisplayName: user, Locale: "en-US"},
		Workspace:    "G1",
		Channel:      platforms.ChannelID(channel),
		Command:      &platforms.Command{Name: name, Args: args},
		Interaction:  "it" + itoa(id),
		HumanTrigger: true,
	}
}

func (h *harness) deliver(ev platforms.Event) {
	h.t.Helper()
	if err := h.p.Deliver(h.t.Context(), ev); err != nil {
		h.t.Fatal(err)
	}
}

// waitReplies waits until n replies (with text) reached their final state.
func (h *harness) waitReplies(n int) []render.ReplyStats {
	h.t.Helper()
	deadline := time.After(waitLong)
	for {
		_, _, replies := h.obs.stats()
		if len(replies) >= n {
			return replies
		}
		select {
		case <-h.obs.done:
		case <-deadline:
			h.t.Fatalf("waited for %d replies, got %d\n%s", n, len(replies), h.p.Dump())
		}
	}
}

// waitText waits for a message (or ephemeral call) whose text contains sub
// and returns that text.
func (h *harness) waitText(sub string) string {
	h.t.Helper()
	var found string
	h.p.MustWaitFor(h.t, waitLong, "a message containing "+sub, func(p *platformtest.Platform) bool {
		for _, m := range p.Messages() {
			if strings.Contains(m.Text, sub) {
				found = m.Text
				return true
			}
		}
		for _, c := range p.CallsOf(platformtest.CallEphemeral) {
			if c.Err == nil && strings.Contains(c.Text, sub) {
				found = c.Text
				return true
			}
		}
		return false
	})
	return found
}

// waitEphemeral waits for a successful ephemeral call containing sub.
func (h *harness) waitEphemeral(sub string) platformtest.Call {
	h.t.Helper()
	var found platformtest.Call
	h.p.MustWaitFor(h.t, waitLong, "an ephemeral message containing "+sub, func(p *platformtest.Platform) bool {
		for _, c := range p.CallsOf(platformtest.CallEphemeral) {
			if c.Err == nil && strings.Contains(c.Text, sub) {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// chatCalls returns the chat/stream requests the fake received.
func (h *harness) chatCalls() []secondmetest.Request {
	return h.sm.RequestsTo(secondmetest.PathChatStream)
}

// inflight returns the in-flight reply records.
func (h *harness) inflight() []store.InflightReply {
	h.t.Helper()
	recs, err := h.st.Replies().ListReplies(h.t.Context(), time.Time{})
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

// waitInflight waits until n in-flight records are left and returns them.
func (h *harness) waitInflight(n int) []store.InflightReply {
	h.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		recs := h.inflight()
		if len(recs) == n {
			return recs
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d in-flight records, want %d: %+v", len(recs), n, recs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// idle reports whether the bridge has no queued or running conversation.
func (h *harness) idle() bool {
	h.b.q.mu.Lock()
	defer h.b.q.mu.Unlock()
	return len(h.b.q.byKey) == 0
}

// settle waits until the bridge has no queued or running work.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if h.idle() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("bridge still busy after %s", waitLong)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = digits[n%10]
		n /= 10
	}
	return string(buf[i:])
}

// joinDeltas is the full text of deltas.
func joinDeltas(deltas []string) string { return strings.Join(deltas, "") }

// words splits text into deltas of a few bytes each.
func words(text string) []string {
	var out []string
	for len(text) > 0 {
		n := min(len(text), 7)
		for n < len(text) && !utf8Start(text[n]) {
			n++
		}
		out = append(out, text[:n])
		text = text[n:]
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package bridge

import (
	"errors"
	"testing"
	"time"
)

// TestSetTunablesLive: settings replaced while the bridge runs govern the
// next messages: the input limit, the system prompt of a new session; a
// value out of range is refused and changes nothing.
func TestSetTunablesLive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	before := h.b.Tunables()
	if err := h.b.SetTunables(Tunables{EditInterval: 0, MaxInputChars: 1, QueueSize: 1, UserRateLimit: 1}); !errors.Is(err, errBadTunables) {
		t.Fatalf("SetTunables with a zero edit interval = %v", err)
	}
	if got := h.b.Tunables(); got != before {
		t.Fatalf("a refused SetTunables changed %+v to %+v", before, got)
	}
	if err := h.b.SetTunables(Tunables{SystemPrompt: "Be brief.", EditInterval: 50 * time.Millisecond, MaxInputChars: 10, QueueSize: 2, UserRateLimit: 100}); err != nil {
		t.Fatal(err)
	}
	h.deliver(h.msg("u1", "c1", "", "eleven char"))
	h.waitText("Your message is too long (11 characters; the limit is 10): please shorten it.")
	h.deliver(h.msg("u1", "c2", "", "short"))
	h.waitReplies(1)
	calls := h.chatCallsDecoded()
	if len(calls) != 1 || calls[0].systemPrompt != "Be brief." {
		t.Errorf("chat calls = %+v, want one with the new system prompt", calls)
	}
}

package storetest

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func samplePending() store.PendingLink {
	return store.PendingLink{
		User:      store.UserKey{Platform: "slack", Workspace: "T1", User: "U1"},
		Locale:    "zh-CN",
		Channel:   "D1",
		Thread:    "1.2",
		DM:        true,
		CreatedAt: base,

		Interaction:   "i1:app:D1:1700000000:1:tok",
		UserName:      "Alice",
		WorkspaceName: "Team One",
		BrowserHash:   "0123abcd",
	}
}

func testStates(t *testing.T, s store.Store) {
	ctx, states := t.Context(), s.States()
	p := samplePending()
	_, err := states.ConsumeState(ctx, "missing")
	mustBe(t, err, store.ErrNotFound, "consume missing state")

	mustOK(t, states.PutState(ctx, "state-1", p, time.Minute), "put state")
	other := p
	other.Channel = "C9"
	mustBe(t, states.PutState(ctx, "state-1", other, time.Minute), store.ErrConflict, "put duplicate state")
	mustErr(t, states.PutState(ctx, "state-2", p, 0), "put state with ttl 0")

	// GetState reads without consuming, as often as asked.
	for range 2 {
		got, err := states.GetState(ctx, "state-1")
		mustOK(t, err, "get state")
		mustEqual(t, p, got, "state read without consuming")
	}
	_, err = states.GetState(ctx, "missing")
	mustBe(t, err, store.ErrNotFound, "get missing state")

	got, err := states.ConsumeState(ctx, "state-1")
	mustOK(t, err, "consume state")
	mustEqual(t, p, got, "consumed state (the duplicate put must not overwrite)")
	_, err = states.ConsumeState(ctx, "state-1")
	mustBe(t, err, store.ErrNotFound, "consume twice")
	_, err = states.GetState(ctx, "state-1")
	mustBe(t, err, store.ErrNotFound, "get consumed state")
	// Once consumed, the id may be used again.
	mustOK(t, states.PutState(ctx, "state-1", other, time.Minute), "put consumed id again")
}

func testStateTTL(t *testing.T, s store.Store) {
	ctx, states := t.Context(), s.States()
	p := samplePending()
	mustOK(t, states.PutState(ctx, "short", p, 80*time.Millisecond), "put short state")
	mustOK(t, states.PutState(ctx, "long", p, time.Minute), "put long state")
	time.Sleep(150 * time.Millisecond)
	_, err := states.GetState(ctx, "short")
	mustBe(t, err, store.ErrNotFound, "get expired state")
	_, err = states.ConsumeState(ctx, "short")
	mustBe(t, err, store.ErrNotFound, "consume expired state")
	got, err := states.ConsumeState(ctx, "long")
	mustOK(t, err, "consume unexpired state")
	mustEqual(t, p, got, "unexpired state")

	mustOK(t, states.PutState(ctx, "again", p, 80*time.Millisecond), "put state")
	time.Sleep(150 * time.Millisecond)
	mustOK(t, states.PutState(ctx, "again", p, time.Minute), "put over an expired state")
	_, err = states.ConsumeState(ctx, "again")
	mustOK(t, err, "consume replaced state")
}

func testDedupe(t *testing.T, s store.Store) {
	ctx, d := t.Context(), s.Dedupe()
	claim := func(id string, ttl time.Duration) bool {
		t.Helper()
		got, err := d.Claim(ctx, id, ttl)
		mustOK(t, err, "claim "+id)
		return got
	}
	want := func(id string, got, want bool) {
		t.Helper()
		if got != want {
			t.Fatalf("Claim(%q) = %v, want %v", id, got, want)
		}
	}
	want("evt-1", claim("evt-1", time.Minute), true)
	want("evt-1", claim("evt-1", time.Minute), false)
	want("evt-2", claim("evt-2", time.Minute), true)

	start := time.Now()
	want("evt-short", claim("evt-short", 250*time.Millisecond), true)
	if claim("evt-short", time.Minute) {
		skipIfSlow(t, start, 250*time.Millisecond, "second claim within the ttl")
		t.Fatal("second claim of evt-short within its ttl = true, want false")
	}
	time.Sleep(350 * time.Millisecond)
	want("evt-short", claim("evt-short", time.Minute), true)
	want("evt-short", claim("evt-short", time.Minute), false)
	want("evt-1", claim("evt-1", time.Minute), false)
	_, err := d.Claim(ctx, "evt-3", 0)
	mustErr(t, err, "claim with ttl 0")
}

package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestKeysDoNotCollide(t *testing.T) {
	t.Parallel()
	users := []store.UserKey{
		{Platform: "discord", User: "1"},
		{Platform: "discord", Workspace: "a:b", User: "c"},
		{Platform: "discord", Workspace: "a", User: "b:c"},
		{Platform: "slack", Workspace: "T{1}", User: "U 1"},
		{Platform: "slack", Workspace: "T%7B1%7D", User: "U+1"},
	}
	seen := map[string]store.UserKey{}
	for _, u := range users {
		enc := User(u)
		if prev, ok := seen[enc]; ok {
			t.Errorf("User(%+v) = User(%+v) = %q", u, prev, enc)
		}
		seen[enc] = u
		if strings.ContainsAny(enc, "{}") || strings.Count(enc, ":") != 2 {
			t.Errorf("User(%+v) = %q: want exactly two ':' and no braces", u, enc)
		}
	}
	c := store.ConversationKey{Platform: "slack", Workspace: "T:1", Channel: "C:1", Thread: "1.2", User: "U"}
	if got, want := Conversation(c), User(c.UserKey())+":"+ConversationSuffix(c); got != want {
		t.Errorf("Conversation = %q, want %q", got, want)
	}
}

func TestLinkRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	s, err := store.NewSealer(bytes.Repeat([]byte{3}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	key := store.UserKey{Platform: "discord", User: "42"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	l := store.Link{
		Key: key, SecondMeUserID: "sm-1", Name: "N",
		Token:     store.Token{AccessToken: "acc-SECRET", RefreshToken: "ref-SECRET", TokenType: "Bearer", Expiry: now, Scopes: []string{}},
		CreatedAt: now, UpdatedAt: now,
	}
	data, err := EncodeLink(s, l)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("SECRET")) {
		t.Fatalf("encoded link holds a plaintext token: %s", data)
	}
	var got store.Link
	if err := DecodeLink(&got, s, key, data); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	other := store.UserKey{Platform: "discord", User: "43"}
	// A failed decode leaves the destination zero, whatever it held.
	if err := DecodeLink(&got, s, other, data); !errors.Is(err, store.ErrUnseal) || !cmp.Equal(got, store.Link{}) {
		t.Errorf("decode under another user: %+v, err = %v, want a zero link and ErrUnseal", got, err)
	}
	got = l
	if err := DecodeLink(&got, s, key, []byte("{")); err == nil || !cmp.Equal(got, store.Link{}) {
		t.Errorf("decode of corrupt JSON: %+v, err = %v, want a zero link and an error", got, err)
	}
	noTokens := l
	noTokens.Token = store.Token{}
	data, err = EncodeLink(s, noTokens)
	if err != nil {
		t.Fatal(err)
	}
	err = DecodeLink(&got, s, key, data)
	if err != nil || got.Token.AccessToken != "" || got.Token.RefreshToken != "" {
		t.Errorf("empty tokens round trip = %+v, %v", got.Token, err)
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	bad := []error{
		TTL("op", 0), TTL("op", -time.Second), NonEmpty("op", "id", ""),
		Take(store.Limit{Rate: 0, Burst: 1}, 1), Take(store.Limit{Rate: 1, Burst: 0}, 1),
		Take(store.Limit{Rate: 1, Burst: 2}, 0), Take(store.Limit{Rate: 1, Burst: 2}, 3),
		Lease("op", store.Lease{Key: "k", Owner: "o"}),
		Lock("op", "", "o", time.Second), Lock("op", "k", "", time.Second), Lock("op", "k", "o", 0),
		Expiring("op", "id", "", time.Second), Expiring("op", "id", "x", 0),
	}
	for i, err := range bad {
		if err == nil {
			t.Errorf("check %d: nil error", i)
		}
	}
	if !errors.Is(Lease("op", store.Lease{}), store.ErrStaleFence) {
		t.Error("zero lease: want ErrStaleFence")
	}
	good := []error{
		TTL("op", time.Millisecond), NonEmpty("op", "id", "x"), Take(store.Limit{Rate: 0.5, Burst: 2}, 2),
		Lock("op", "k", "o", time.Millisecond), Expiring("op", "id", "x", time.Millisecond),
	}
	for i, err := range good {
		if err != nil {
			t.Errorf("good check %d: %v", i, err)
		}
	}
}

func TestReserveChecks(t *testing.T) {
	t.Parallel()
	l := store.Limit{Rate: 1, Burst: 1}
	yearly := store.Limit{Rate: 1.0 / (365 * 24 * 3600), Burst: 5} // Burst/Rate five years
	bad := map[string]error{
		"negative after":       Reserve([]store.Bucket{{Key: "a", Limit: l}}, -1),
		"after over the span":  Reserve([]store.Bucket{{Key: "a", Limit: l}}, MaxReserveSpan+1),
		"burst/rate over span": Reserve([]store.Bucket{{Key: "a", Limit: store.Limit{Rate: 1e-11, Burst: 1}}}, 0),
		"tiny rate":            Reserve([]store.Bucket{{Key: "a", Limit: store.Limit{Rate: 1e-300, Burst: 1}}}, 0),
		"key twice":            Reserve([]store.Bucket{{Key: "a", Limit: l}, {Key: "a", Limit: l}}, 0),
		"empty key":            Reserve([]store.Bucket{{Limit: l}}, 0),
	}
	for name, err := range bad {
		if err == nil {
			t.Errorf("Reserve with %s: nil error", name)
		}
	}
	if err := Reserve([]store.Bucket{{Key: "a", Limit: l}, {Key: "b", Limit: yearly}}, MaxReserveSpan); err != nil {
		t.Errorf("Reserve at the bounds: %v", err)
	}
}

// The tolerance keeps exactly the spend grace in hand, to the fraction of
// a microsecond: with a burst of 2 and a grace of (Burst-1)/Rate, exactly
// one token's worth (it was a third of a µs more, the grace truncated).
func TestGCRAKeepsTheGraceExactly(t *testing.T) {
	t.Parallel()
	for _, l := range []store.Limit{{Rate: 300, Burst: 2}, {Rate: 3000, Burst: 2}, {Rate: 70, Burst: 2}} {
		grace := time.Duration(float64(l.Burst-1) / l.Rate * float64(time.Second)) // all it can spare
		if grace%time.Microsecond == 0 {
			t.Fatalf("%+v: grace %v must not be whole µs for this test", l, grace)
		}
		interval, tol := GCRA(store.Bucket{Key: "k", Limit: l, Grace: grace})
		if d := tol - (2*interval - float64(grace)/1e3); d < -1e-9 || d > 1e-9 {
			t.Errorf("%+v: tolerance %v is %v µs off Burst/Rate less the grace %v", l, tol, d, grace)
		}
		if tol-interval > 1e-3 {
			t.Errorf("%+v: tolerance %v exceeds one interval %v by %v µs: less than the grace kept in hand", l, tol, interval, tol-interval)
		}
	}
	if got := Micros(1500 * time.Nanosecond); got != 1.5 {
		t.Errorf("Micros(1.5µs) = %v, want 1.5", got)
	}
}

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
	got, err := DecodeLink(s, key, data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	other := store.UserKey{Platform: "discord", User: "43"}
	if _, err := DecodeLink(s, other, data); !errors.Is(err, store.ErrUnseal) {
		t.Errorf("decode under another user: err = %v, want ErrUnseal", err)
	}
	if _, err := DecodeLink(s, key, []byte("{")); err == nil {
		t.Error("decode of corrupt JSON: nil error")
	}
	noTokens := l
	noTokens.Token = store.Token{}
	data, err = EncodeLink(s, noTokens)
	if err != nil {
		t.Fatal(err)
	}
	got, err = DecodeLink(s, key, data)
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
		Lock("op", "k", "o", time.Millisecond),
	}
	for i, err := range good {
		if err != nil {
			t.Errorf("good check %d: %v", i, err)
		}
	}
}

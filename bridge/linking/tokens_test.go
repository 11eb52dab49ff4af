package linking

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestTokenRefreshAheadOfExpiry(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.SetAccessTTL(10 * time.Minute) // short expiresIn
		h.fake.SetRotateRefreshTokens(true)
		u := user("henry")
		_, n := h.linkAs(u, "9")

		got, err := h.linker.Token(t.Context(), u)
		if err != nil || got.Token.AccessToken != n.link.Token.AccessToken || h.fake.RefreshCount() != 0 {
			t.Fatalf("fresh token: err %v, refreshes %d", err, h.fake.RefreshCount())
		}

		h.fake.Advance(6 * time.Minute) // 4 minutes left < RefreshAhead
		got, err = h.linker.Token(t.Context(), u)
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		if h.fake.RefreshCount() != 1 || got.Token.AccessToken == n.link.Token.AccessToken {
			t.Fatalf("refreshes = %d, token changed = %v", h.fake.RefreshCount(), got.Token.AccessToken != n.link.Token.AccessToken)
		}
		if id, ok := h.fake.TokenUser(got.Token.AccessToken); !ok || id != "9" {
			t.Errorf("refreshed token invalid at SecondMe (%q, %v)", id, ok)
		}
		if left := got.Token.Expiry.Sub(h.fake.Now()); left < 9*time.Minute || left > 10*time.Minute {
			t.Errorf("new expiry in %v, want 10m", left)
		}
		raw, err := h.rawLink(u)
		if err != nil || raw.Token.AccessToken != got.Token.AccessToken {
			t.Fatalf("raw link not updated: %v", err)
		}
		if raw.Token.RefreshToken == n.link.Token.RefreshToken || raw.Token.RefreshToken == "" {
			t.Error("the rotated refresh token was not saved")
		}

		// Fresh again: no more refreshes.
		if _, err := h.linker.Token(t.Context(), u); err != nil || h.fake.RefreshCount() != 1 {
			t.Errorf("second Token: %v, refreshes %d", err, h.fake.RefreshCount())
		}
	})
}

func TestRefreshWithoutRefreshTokenKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("iris")
		_, n := h.linkAs(u, "10")
		h.fake.QueueResponse(secondmetest.PathTokenRefresh, secondmetest.JSONResponse(200, map[string]any{
			"code": 0,
			"data": map[string]any{"accessToken": "lba_at_manual", "tokenType": "Bearer", "expiresIn": 7200},
		}))
		h.fake.Advance(2 * time.Hour)
		got, err := h.linker.Token(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		if got.Token.AccessToken != "lba_at_manual" || got.Token.RefreshToken != n.link.Token.RefreshToken {
			t.Error("access token not replaced, or refresh token lost")
		}
		if len(got.Token.Scopes) == 0 || got.Token.TokenType != "Bearer" {
			t.Errorf("scopes/type lost: %v %q", got.Token.Scopes, got.Token.TokenType)
		}
	})
}

func TestConcurrentTokenCallsRefreshOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("jack")
		h.linkAs(u, "11")
		h.fake.SetDelay(secondmetest.PathTokenRefresh, 300*time.Millisecond)
		h.fake.Advance(2*time.Hour - time.Minute)

		tokens := runConcurrently(t, 20, func(int) (store.Link, error) { return h.linker.Token(t.Context(), u) })
		if h.fake.RefreshCount() != 1 {
			t.Errorf("refresh calls = %d, want 1", h.fake.RefreshCount())
		}
		if len(tokens) != 1 {
			t.Errorf("callers got %d different access tokens, want 1", len(tokens))
		}
	})
}

// Two Linkers (two replicas, each with its own store client) share one
// store: the store lock makes exactly one of them refresh.
func TestTwoReplicasRefreshOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		replica2 := h.newLinker("replica-2", 0, h.openMore())
		u := user("kate")
		h.linkAs(u, "12")
		h.fake.SetDelay(secondmetest.PathTokenRefresh, 300*time.Millisecond)
		h.fake.Advance(2*time.Hour + time.Minute) // expired

		tokens := runConcurrently(t, 20, func(i int) (store.Link, error) {
			if i%2 == 0 {
				return h.linker.Token(t.Context(), u)
			}
			return replica2.Token(t.Context(), u)
		})
		if h.fake.RefreshCount() != 1 {
			t.Errorf("refresh calls = %d, want 1", h.fake.RefreshCount())
		}
		if len(tokens) != 1 {
			t.Errorf("callers got %d different access tokens, want 1", len(tokens))
		}
	})
}

func TestRevokedRefreshTokenBreaksLink(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("liam")
		_, n := h.linkAs(u, "13")
		h.fake.RevokeRefreshToken(n.link.Token.RefreshToken)
		h.fake.Advance(2*time.Hour - time.Minute)

		if _, err := h.linker.Token(t.Context(), u); !errors.Is(err, ErrLinkBroken) {
			t.Fatalf("Token = %v, want ErrLinkBroken", err)
		}
		raw, err := h.rawLink(u)
		if err != nil || !raw.Broken {
			t.Fatalf("raw link broken = %v (%v), want true", raw.Broken, err)
		}
		calls := h.fake.RefreshCount()
		if _, err := h.linker.Token(t.Context(), u); !errors.Is(err, ErrLinkBroken) {
			t.Errorf("Token on a broken link = %v", err)
		}
		if _, err := h.linker.RefreshAfterFailure(t.Context(), u, raw.Token.AccessToken); !errors.Is(err, ErrLinkBroken) {
			t.Errorf("RefreshAfterFailure on a broken link = %v", err)
		}
		if h.fake.RefreshCount() != calls {
			t.Errorf("a broken link called SecondMe again")
		}

		// Linking again repairs it.
		h.linkAs(u, "13")
		if _, err := h.linker.Token(t.Context(), u); err != nil {
			t.Errorf("Token after relinking: %v", err)
		}
	})
}

func TestRefreshAfterFailure(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("mia")
		_, n := h.linkAs(u, "14")
		failed := n.link.Token.AccessToken
		h.fake.ExpireAccessToken(failed)
		h.fake.SetDelay(secondmetest.PathTokenRefresh, 200*time.Millisecond)

		tokens := runConcurrently(t, 10, func(int) (store.Link, error) {
			return h.linker.RefreshAfterFailure(t.Context(), u, failed)
		})
		if h.fake.RefreshCount() != 1 || len(tokens) != 1 {
			t.Fatalf("refreshes = %d, distinct tokens = %d; want 1, 1", h.fake.RefreshCount(), len(tokens))
		}
		for tok := range tokens {
			if tok == failed {
				t.Fatal("still the failed token")
			}
		}
		// Someone already refreshed: no SecondMe call.
		again, err := h.linker.RefreshAfterFailure(t.Context(), u, failed)
		if err != nil || again.Token.AccessToken == failed || h.fake.RefreshCount() != 1 {
			t.Errorf("second RefreshAfterFailure: %v, refreshes %d", err, h.fake.RefreshCount())
		}
	})
}

func TestTransientRefreshFailure(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("noah")
		_, n := h.linkAs(u, "15")

		// Ahead of expiry, a failed refresh leaves the still-valid token.
		h.fake.QueueResponse(secondmetest.PathTokenRefresh, secondmetest.ErrorResponse(503, "connection.error", "down"))
		h.fake.Advance(2*time.Hour - 2*time.Minute)
		got, err := h.linker.Token(t.Context(), u)
		if err != nil || got.Token.AccessToken != n.link.Token.AccessToken {
			t.Fatalf("Token during a SecondMe outage ahead of expiry: %v", err)
		}

		// Past expiry it is an error, but not a broken link.
		h.fake.QueueResponse(secondmetest.PathTokenRefresh, secondmetest.ErrorResponse(503, "connection.error", "down"))
		h.fake.Advance(5 * time.Minute)
		_, err = h.linker.Token(t.Context(), u)
		if err == nil || errors.Is(err, ErrLinkBroken) || errors.Is(err, ErrNotLinked) {
			t.Fatalf("Token = %v, want a transient error", err)
		}
		if raw, err := h.rawLink(u); err != nil || raw.Broken {
			t.Fatalf("link broken after a transient failure (%v)", err)
		}
		got, err = h.linker.Token(t.Context(), u)
		if err != nil || got.Token.AccessToken == n.link.Token.AccessToken {
			t.Errorf("Token after the outage: %v", err)
		}
		if n := len(h.fake.RequestsTo(secondmetest.PathTokenRefresh)); n != 3 {
			t.Errorf("refresh requests = %d, want 3", n)
		}
	})
}

func TestNotLinked(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("nobody")
		if _, err := h.linker.Token(t.Context(), u); !errors.Is(err, ErrNotLinked) {
			t.Errorf("Token = %v", err)
		}
		if _, err := h.linker.RefreshAfterFailure(t.Context(), u, "x"); !errors.Is(err, ErrNotLinked) {
			t.Errorf("RefreshAfterFailure = %v", err)
		}
		if _, err := h.linker.Unlink(t.Context(), u); !errors.Is(err, ErrNotLinked) {
			t.Errorf("Unlink = %v", err)
		}
	})
}

// runConcurrently calls fn n times at once and returns the set of access
// tokens they returned; any error fails the test.
func runConcurrently(t *testing.T, n int, fn func(i int) (store.Link, error)) map[string]bool {
	t.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		tokens = make(map[string]bool)
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			l, err := fn(i)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			mu.Lock()
			tokens[l.Token.AccessToken] = true
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return tokens
}

func TestFresh(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.SetAccessTTL(10 * time.Minute)
		u := user("fresh")
		_, n := h.linkAs(u, "21")
		read, err := h.rawLink(u)
		if err != nil {
			t.Fatal(err)
		}

		// A fresh link comes back as passed: not read again.
		passed := read
		passed.Name = "as passed"
		got, err := h.linker.Fresh(t.Context(), passed)
		if err != nil || got.Name != "as passed" || got.Token.AccessToken != n.link.Token.AccessToken {
			t.Fatalf("Fresh(fresh link) = %q, %v; want the link as passed", got.Name, err)
		}
		if h.fake.RefreshCount() != 0 {
			t.Fatalf("refreshes = %d, want 0", h.fake.RefreshCount())
		}

		// Close to expiry: refreshed, like Token.
		h.fake.Advance(6 * time.Minute)
		got, err = h.linker.Fresh(t.Context(), passed)
		if err != nil {
			t.Fatalf("Fresh(expiring link): %v", err)
		}
		if h.fake.RefreshCount() != 1 || got.Token.AccessToken == n.link.Token.AccessToken || got.Name == "as passed" {
			t.Fatalf("refreshes = %d, token changed = %v, name %q; want one refresh and the stored link",
				h.fake.RefreshCount(), got.Token.AccessToken != n.link.Token.AccessToken, got.Name)
		}

		// A link read as Broken: ErrLinkBroken while it is still broken.
		broken, err := h.store.Links().UpdateLink(t.Context(), u, func(x store.Link) (store.Link, error) {
			x.Broken = true
			return x, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.linker.Fresh(t.Context(), broken); !errors.Is(err, ErrLinkBroken) {
			t.Fatalf("Fresh(broken link) = %v, want ErrLinkBroken", err)
		}
		if h.fake.RefreshCount() != 1 {
			t.Errorf("refreshes = %d after a broken link, want 1", h.fake.RefreshCount())
		}
	})
}

// TestTurnLink: the link a turn's start read, fresh (as Fresh), by
// pointer; ErrNotLinked without one; a link stored without its key gets
// the user's.
func TestTurnLink(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.SetAccessTTL(10 * time.Minute)
		u := user("turn")
		_, n := h.linkAs(u, "31")
		read, err := h.rawLink(u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.linker.TurnLink(t.Context(), u, &store.TurnStart{}); !errors.Is(err, ErrNotLinked) {
			t.Fatalf("TurnLink(no link) = %v, want ErrNotLinked", err)
		}
		keyless := read
		keyless.Key = store.UserKey{}
		start := &store.TurnStart{Link: keyless, HasLink: true}
		got, err := h.linker.TurnLink(t.Context(), u, start)
		if err != nil || got.Key != u || got.Token.AccessToken != n.link.Token.AccessToken {
			t.Fatalf("TurnLink(keyless fresh link) = %+v, %v; want it with the user's key", got, err)
		}
		if start.Link.Key != (store.UserKey{}) {
			t.Error("TurnLink changed the TurnStart's link")
		}
		h.fake.Advance(6 * time.Minute) // close to expiry: refreshed, as Fresh
		got, err = h.linker.TurnLink(t.Context(), u, &store.TurnStart{Link: read, HasLink: true})
		if err != nil || got.Token.AccessToken == n.link.Token.AccessToken || h.fake.RefreshCount() != 1 {
			t.Fatalf("TurnLink(expiring link): %v, refreshes %d; want a refreshed token", err, h.fake.RefreshCount())
		}
	})
}

func TestSessionUsable(t *testing.T) {
	t.Parallel()
	link := &store.Link{SecondMeUserID: "a"}
	for _, tc := range []struct {
		account string
		want    bool
	}{{"", true}, {"a", true}, {"b", false}} {
		if got := SessionUsable(&store.Conversation{Account: tc.account}, link); got != tc.want {
			t.Errorf("SessionUsable(account %q, link of a) = %v, want %v", tc.account, got, tc.want)
		}
	}
}

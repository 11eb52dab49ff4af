package slack

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

// seqStore is an InstallStore whose GetInstall answers from a list (the
// last one repeats), to stage what other replicas wrote in between.
type seqStore struct {
	mu   sync.Mutex
	gets []Install
	puts []Install
}

func (s *seqStore) GetInstall(context.Context, string) (Install, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.gets[0]
	if len(s.gets) > 1 {
		s.gets = s.gets[1:]
	}
	return in, nil
}

func (s *seqStore) PutInstall(ctx context.Context, in Install) error {
	if err := ctx.Err(); err != nil {
		return err // as a real store call would
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts = append(s.puts, in)
	return nil
}

func (s *seqStore) DeleteInstall(context.Context, string) error { return nil }

type onceAlways struct{}

func (onceAlways) Claim(context.Context, string, time.Duration) (bool, error) { return true, nil }

// TestRefreshRaceUsesTheWinnersToken: two replicas refresh a rotating token
// at once with the same refresh token; the fake accepts it once. The
// loser's exchange fails, and it then uses the pair the winner stored
// instead of failing the call.
func TestRefreshRaceUsesTheWinnersToken(t *testing.T) {
	t.Parallel()
	fake := slacktest.NewServer(t, slacktest.Options{TokenRotation: true, TokenLifetime: time.Minute})
	fake.AddWorkspace(slacktest.Workspace{TeamID: "T2", TeamName: "Beta"})
	store := &seqStore{}
	a, _ := newAdapter(t, fake, func(c *Config) {
		c.Install = &InstallConfig{ClientID: slacktest.DefaultClientID, ClientSecret: slacktest.DefaultClientSecret,
			PublicURL: "https://bridge.test", Store: store, Once: onceAlways{}}
	})
	ctx := t.Context()
	// Install T2: a code from the authorize page, exchanged.
	fake.NextInstall("T2")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(fake.AuthorizeURL() + "?client_id=" + slacktest.DefaultClientID + "&state=s&redirect_uri=" + url.QueryEscape("https://bridge.test/cb"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	first, err := a.oauthAccess(ctx, map[string]string{"code": loc.Query().Get("code"), "redirect_uri": "https://bridge.test/cb"})
	if err != nil {
		t.Fatal(err)
	}
	// The winner refreshes with the install's refresh token.
	won, err := a.oauthAccess(ctx, map[string]string{"grant_type": "refresh_token", "refresh_token": first.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	stale := Install{Team: "T2", BotToken: first.AccessToken, RefreshToken: first.RefreshToken, Expiry: first.expiry()}
	winner := Install{Team: "T2", BotToken: won.AccessToken, RefreshToken: won.RefreshToken, Expiry: won.expiry()}
	// The loser read the install before the winner stored its pair.
	store.gets = []Install{stale, winner}
	got, err := a.refreshInstall(ctx, "T2")
	if err != nil {
		t.Fatalf("refresh lost the race with an error: %v", err)
	}
	if got.BotToken != won.AccessToken {
		t.Errorf("the loser uses another token than the winner's")
	}
	if len(store.puts) != 0 {
		t.Errorf("the loser stored %d installs over the winner's", len(store.puts))
	}
}

// cancelAfter is a RoundTripper that cancels the caller's context once a
// response of path has arrived, as a caller giving up at that moment would.
type cancelAfter struct {
	path   string
	cancel context.CancelFunc
}

func (c cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.URL.Path == c.path {
		c.cancel()
	}
	return resp, err
}

// TestRefreshSurvivesCallerGivingUp: a rotating refresh token is spent by
// the exchange, so a refresh whose caller gives up (a typing indicator
// that stopped, say) once Slack answered must still read the new pair and
// store it; otherwise every later refresh fails with invalid_refresh_token
// and the workspace is locked out.
func TestRefreshSurvivesCallerGivingUp(t *testing.T) {
	t.Parallel()
	fake := slacktest.NewServer(t, slacktest.Options{TokenRotation: true, TokenLifetime: time.Minute})
	fake.AddWorkspace(slacktest.Workspace{TeamID: "T2", TeamName: "Beta"})
	store := &seqStore{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a, _ := newAdapter(t, fake, func(c *Config) {
		c.Install = &InstallConfig{ClientID: slacktest.DefaultClientID, ClientSecret: slacktest.DefaultClientSecret,
			PublicURL: "https://bridge.test", Store: store, Once: onceAlways{}}
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: cancelAfter{path: "/api/oauth.v2.access", cancel: cancel}}
	})
	fake.NextInstall("T2")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(fake.AuthorizeURL() + "?client_id=" + slacktest.DefaultClientID + "&state=s&redirect_uri=" + url.QueryEscape("https://bridge.test/cb"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	first, err := a.oauthAccess(t.Context(), map[string]string{"code": loc.Query().Get("code"), "redirect_uri": "https://bridge.test/cb"})
	if err != nil {
		t.Fatal(err)
	}
	store.gets = []Install{{Team: "T2", BotToken: first.AccessToken, RefreshToken: first.RefreshToken, Expiry: first.expiry()}}
	got, err := a.refreshInstall(ctx, "T2")
	if ctx.Err() == nil {
		t.Fatal("the caller's context was not cancelled by the exchange: the test proves nothing")
	}
	if err != nil {
		t.Fatalf("refresh failed when its caller gave up after the exchange: %v", err)
	}
	if len(store.puts) != 1 || store.puts[0].RefreshToken == first.RefreshToken || store.puts[0].BotToken != got.BotToken {
		t.Fatalf("stored %+v, want the rotated pair once", store.puts)
	}
}

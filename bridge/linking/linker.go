package linking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Errors returned by the Linker. They are matched with errors.Is; the bridge
// turns them into user-facing wording.
var (
	// ErrNotLinked is returned by Token, RefreshAfterFailure and Unlink when
	// the user has no link.
	ErrNotLinked = errors.New("linking: user is not linked")
	// ErrLinkBroken is returned by Token and RefreshAfterFailure when the
	// link's refresh token was revoked, expired or is invalid: the link is
	// marked Broken and the user must run /link again.
	ErrLinkBroken = errors.New("linking: link is broken, relink required")
	// ErrLinkRateLimited is returned (wrapped) by StartLink when the user
	// created too many links recently (5 per 10 minutes).
	ErrLinkRateLimited = errors.New("linking: too many link requests")
)

// SecondMeAuth is what linking needs from the SecondMe client
// (*secondme.Client satisfies it). Every method does network I/O, honours
// ctx and is called concurrently.
type SecondMeAuth interface {
	AuthorizeURL(redirectURI, state string) string
	ExchangeCode(ctx context.Context, code, redirectURI string) (*secondme.Token, error)
	RefreshToken(ctx context.Context, refreshToken string) (*secondme.Token, error)
	UserInfo(ctx context.Context, token string) (*secondme.UserInfo, error)
	AuthMe(ctx context.Context, token string) (*secondme.AuthMe, error)
}

// LinkNotifier is told when a link completes, so the user hears it where
// they asked. Implemented by the engine (*bridge.Bridge).
//
// LinkCompleted is called once per completed link, after the link is
// stored, from its own goroutine (never the HTTP request's), with a context
// that carries a bounded deadline (NotifyTimeout). It must not block long;
// several calls may run concurrently. replaced is the link to a different
// SecondMe account that this link replaced, or nil.
type LinkNotifier interface {
	LinkCompleted(ctx context.Context, p store.PendingLink, link store.Link, replaced *store.Link)
}

// Defaults and limits.
const (
	// DefaultLinkTTL is how long a link id, and the OAuth state made from
	// it, stays valid.
	DefaultLinkTTL = 10 * time.Minute
	// DefaultRefreshAhead is how long before expiry an access token is
	// refreshed.
	DefaultRefreshAhead = 5 * time.Minute
	// NotifyTimeout bounds one LinkNotifier call.
	NotifyTimeout = 30 * time.Second
	// LinkRateBurst link creations are allowed per user per LinkRateWindow.
	LinkRateBurst = 5
	// LinkRateWindow is the window of the per-user link rate limit.
	LinkRateWindow = 10 * time.Minute
)

// LinkerConfig configures a Linker. Store and SecondMe are required, and so
// is PublicURL (an absolute http or https URL).
type LinkerConfig struct {
	// PublicURL is http.public_url; a trailing slash is ignored. Links are
	// {PublicURL}/link/{id} and the OAuth redirect is
	// {PublicURL}/oauth/callback.
	PublicURL string
	// LinkTTL is the validity of a link id and of its OAuth state
	// (default DefaultLinkTTL).
	LinkTTL  time.Duration
	Store    store.Store
	SecondMe SecondMeAuth
	// Notifier may be nil here and set later with SetNotifier.
	Notifier LinkNotifier
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
	// Owner is this instance's id, the owner name of the store locks
	// (default "linker-" + random).
	Owner string
	// Now defaults to time.Now.
	Now func() time.Time
	// RefreshAhead defaults to DefaultRefreshAhead.
	RefreshAhead time.Duration
	// Metrics registers the linking metrics when non-nil.
	Metrics prometheus.Registerer
	// Platforms names each chat platform (by its adapter name, "discord")
	// and its link command on the pages. A platform missing here is named
	// by its adapter name with the command "/link".
	Platforms map[string]Platform
}

// Linker runs the /link flow and the token lifecycle. It is safe for
// concurrent use.
type Linker struct {
	publicURL    string
	redirectURI  string
	secure       bool // public URL is https: __Host- cookies, Secure
	platforms    map[string]Platform
	linkTTL      time.Duration
	refreshAhead time.Duration
	store        store.Store
	sm           SecondMeAuth
	log          *slog.Logger
	owner        string
	now          func() time.Time
	metrics      *metrics

	// Refresh tuning; tests shorten them.
	lockTTL      time.Duration
	lockWait     time.Duration
	lockPoll     time.Duration
	flightTimout time.Duration

	flight singleflight.Group

	mu       sync.RWMutex
	notifier LinkNotifier
}

// New validates cfg and returns a Linker.
func New(cfg LinkerConfig) (*Linker, error) {
	var problems []string
	publicURL := strings.TrimRight(strings.TrimSpace(cfg.PublicURL), "/")
	if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("public URL %q is not an absolute http(s) URL", cfg.PublicURL))
	} else if u.RawQuery != "" || u.Fragment != "" {
		problems = append(problems, "public URL must not have a query or fragment")
	}
	if cfg.Store == nil {
		problems = append(problems, "store is required")
	}
	if cfg.SecondMe == nil {
		problems = append(problems, "SecondMe client is required")
	}
	if cfg.LinkTTL < 0 || cfg.RefreshAhead < 0 {
		problems = append(problems, "durations must not be negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("new linker: %s", strings.Join(problems, "; "))
	}
	l := &Linker{
		publicURL:    publicURL,
		redirectURI:  publicURL + "/oauth/callback",
		secure:       strings.HasPrefix(strings.ToLower(publicURL), "https://"),
		platforms:    cfg.Platforms,
		linkTTL:      cfg.LinkTTL,
		refreshAhead: cfg.RefreshAhead,
		store:        cfg.Store,
		sm:           cfg.SecondMe,
		log:          cfg.Logger,
		owner:        cfg.Owner,
		now:          cfg.Now,
		notifier:     cfg.Notifier,
		lockTTL:      time.Minute,
		lockWait:     12 * time.Second,
		lockPoll:     100 * time.Millisecond,
		flightTimout: 45 * time.Second,
	}
	if l.linkTTL == 0 {
		l.linkTTL = DefaultLinkTTL
	}
	if l.refreshAhead == 0 {
		l.refreshAhead = DefaultRefreshAhead
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.log = l.log.With("component", "linking")
	if l.now == nil {
		l.now = time.Now
	}
	if l.owner == "" {
		id, err := randomID()
		if err != nil {
			return nil, fmt.Errorf("new linker: %w", err)
		}
		l.owner = "linker-" + id[:12]
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("new linker: %w", err)
	}
	l.metrics = m
	return l, nil
}

// SetNotifier sets (or replaces) the notifier told about completed links.
// It may be called at any time, concurrently with requests.
func (l *Linker) SetNotifier(n LinkNotifier) {
	l.mu.Lock()
	l.notifier = n
	l.mu.Unlock()
}

func (l *Linker) getNotifier() LinkNotifier {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.notifier
}

// StartLink creates the one-time link {public_url}/link/{id} for p.User,
// valid LinkTTL and usable once. A query may follow (?p=<platform>&hl=<en|zh>):
// hints for the wording of the page shown once the link is gone. It is
// rate-limited per user (5 per 10 minutes, across replicas): the 6th call
// returns an error wrapping ErrLinkRateLimited. p.CreatedAt is set to now
// when zero.
func (l *Linker) StartLink(ctx context.Context, p store.PendingLink) (string, error) {
	if p.User.Platform == "" || p.User.User == "" {
		return "", errors.New("start link: pending link needs a platform and a user")
	}
	limit := store.Limit{Rate: float64(LinkRateBurst) / LinkRateWindow.Seconds(), Burst: LinkRateBurst}
	ok, wait, err := l.store.Budgets().Take(ctx, "link:"+userPath(p.User), limit, 1)
	if err != nil {
		return "", fmt.Errorf("start link: take rate budget: %w", err)
	}
	if !ok {
		l.log.InfoContext(ctx, "link creation rate limited", userAttr(p.User), "retry_in", wait.Round(time.Second))
		return "", fmt.Errorf("start link: %w (retry in %s)", ErrLinkRateLimited, wait.Round(time.Second))
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = l.now()
	}
	id, err := randomID()
	if err != nil {
		return "", fmt.Errorf("start link: %w", err)
	}
	if err := l.store.States().PutState(ctx, linkPrefix+id, p, l.linkTTL); err != nil {
		return "", fmt.Errorf("start link: store link id: %w", err)
	}
	l.metrics.started.Inc()
	l.log.InfoContext(ctx, "link started", userAttr(p.User), "link_hash", shortHash(id))
	// The query only hints at the wording of the page shown once the link
	// is gone (expired, used): the user's platform and language.
	platform, lang := l.hint(p.User.Platform, langOf(p.Locale))
	return l.publicURL + "/link/" + id + hintQuery(pageView{Platform: platform, Locale: lang}), nil
}

// Unlink removes the user's link (with its tokens) and every conversation
// mapping of the user, and returns the removed link. It returns ErrNotLinked
// when there was no link (the conversation mappings are removed anyway). A
// link that no configured key can open is removed too, and returned with
// only its Key set.
func (l *Linker) Unlink(ctx context.Context, user store.UserKey) (store.Link, error) {
	link, err := l.store.Links().GetLink(ctx, user)
	unreadable := errors.Is(err, store.ErrUnseal)
	notLinked := errors.Is(err, store.ErrNotFound) && !unreadable
	if unreadable {
		link = store.Link{Key: user}
	} else if err != nil && !notLinked {
		return store.Link{}, fmt.Errorf("unlink: get link: %w", err)
	}
	if !notLinked {
		if err := l.store.Links().DeleteLink(ctx, user); errors.Is(err, store.ErrNotFound) {
			notLinked = true
		} else if err != nil {
			return store.Link{}, fmt.Errorf("unlink: delete link: %w", err)
		}
	}
	n, err := l.store.Conversations().DeleteUserConversations(ctx, user)
	if err != nil {
		return store.Link{}, fmt.Errorf("unlink: delete conversations: %w", err)
	}
	if notLinked {
		return store.Link{}, ErrNotLinked
	}
	l.log.InfoContext(ctx, "unlinked", userAttr(user), "conversations_removed", n)
	return link, nil
}

// userPath renders a user key as "<platform>:<scope>:<user>" for store keys.
func userPath(u store.UserKey) string {
	return u.Platform + ":" + u.Workspace + ":" + u.User
}

func userAttr(u store.UserKey) slog.Attr {
	return slog.Group("platform_user", "platform", u.Platform, "workspace", u.Workspace, "user", u.User)
}

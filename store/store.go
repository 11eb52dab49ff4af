package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends return them (possibly wrapped with %w); callers
// match them with errors.Is. The conformance suite in store/storetest asserts
// exactly these.
var (
	// ErrNotFound is returned when a key does not exist, has expired, or (for
	// one-time states) has already been consumed.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a create-only write meets an existing key,
	// or when a lease lock is held by another owner.
	ErrConflict = errors.New("store: conflict")
	// ErrStaleFence is returned when a lease is used (extended, released,
	// validated) after another owner acquired the lock with a newer fencing
	// token, or after the lease expired.
	ErrStaleFence = errors.New("store: stale fencing token")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("store: closed")
)

// Store is the bridge's whole persistent state, grouped by aggregate. Every
// method may do network or disk I/O, honours ctx, and is safe for concurrent
// use by any number of goroutines and (for shared backends such as Redis) by
// any number of replicas. Three backends implement it: store/bolt
// (embedded, one process per file), store/redis (shared by replicas) and
// store/memory (in the process, for tests). All pass the conformance suite
// in store/storetest.
type Store interface {
	Links() Links
	Conversations() Conversations
	States() States
	Dedupe() Dedupe
	Locks() Locks
	Replies() Replies
	Budgets() Budgets
	Turns() Turns
	Installs() Installs
	Liveness() Liveness
	Inbox() Inbox
	Cancels() Cancels

	// Ping reports whether the backend is reachable. It is cheap enough to
	// be called by /readyz on every probe.
	Ping(ctx context.Context) error
	// Close releases the backend. Calls after Close return ErrClosed.
	Close() error
}

// UserKey identifies one person on one platform: the platform name
// ("discord", "slack"), the scope in which user ids are unique ("" for
// Discord, whose user ids are global; the team id for Slack) and the platform
// user id.
type UserKey struct {
	Platform  string
	Workspace string
	User      string
}

// ConversationKey identifies one conversation between one user and their
// avatar: the user, plus where it happens (channel and, when the platform has
// them, thread). Two users in the same thread have two conversations, because
// chat/stream with a user's token is that user talking to their own avatar.
type ConversationKey struct {
	Platform  string
	Workspace string
	Channel   string
	Thread    string
	User      string
}

// UserKey returns the key of the user who owns the conversation.
func (k ConversationKey) UserKey() UserKey {
	return UserKey{Platform: k.Platform, Workspace: k.Workspace, User: k.User}
}

// Token is an OAuth token pair. Backends encrypt AccessToken and RefreshToken
// at rest (AES-256-GCM under store.encryption_key, see Sealer); the other
// fields are stored in the clear.
type Token struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	Expiry       time.Time // zero means unknown
	Scopes       []string
}

// Link is an account link: a platform user ↔ a SecondMe identity, with the
// OAuth token that lets the bridge act for them.
type Link struct {
	Key             UserKey
	SecondMeUserID  string
	AppScopedUserID string // from GET /api/auth/me, when known
	Name            string
	AvatarURL       string
	Token           Token
	// Broken is set when a refresh failed permanently (refresh token
	// revoked, expired or invalid): the user must run /link again.
	Broken    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Links stores account links and their tokens.
type Links interface {
	// GetLink returns the link of key, or ErrNotFound. A link that no
	// configured key can open is absent: the error wraps ErrNotFound and
	// ErrUnseal (PutLink overwrites it, DeleteLink removes it).
	GetLink(ctx context.Context, key UserKey) (Link, error)
	// PutLink creates or replaces the link of link.Key.
	PutLink(ctx context.Context, link Link) error
	// UpdateLink atomically reads the link of key, passes it to fn and
	// stores what fn returns. fn may be called more than once (optimistic
	// retries) and must derive its result from its argument only. If fn
	// returns an error, nothing is written and UpdateLink returns it
	// unchanged. Returns ErrNotFound when key has no link.
	UpdateLink(ctx context.Context, key UserKey, fn func(Link) (Link, error)) (Link, error)
	// DeleteLink removes the link of key. Returns ErrNotFound when absent.
	DeleteLink(ctx context.Context, key UserKey) error
}

// Conversation maps a conversation to its SecondMe session.
type Conversation struct {
	Key        ConversationKey
	SessionID  string
	LastActive time.Time
	// Account is the SecondMe account (Link.SecondMeUserID) the session
	// was issued to, "" when unknown (written by an older version). A
	// session of another account than the user's current link is never
	// used.
	Account string
}

// Conversations stores conversation key → SecondMe sessionId.
type Conversations interface {
	// GetConversation returns the conversation of key, or ErrNotFound when
	// it is absent or its TTL (set by the last PutConversation) has passed.
	GetConversation(ctx context.Context, key ConversationKey) (Conversation, error)
	// PutConversation creates or replaces c; it expires ttl after the call
	// (ttl > 0 is required).
	PutConversation(ctx context.Context, c Conversation, ttl time.Duration) error
	// DeleteConversation removes the conversation of key. Returns
	// ErrNotFound when absent.
	DeleteConversation(ctx context.Context, key ConversationKey) error
	// DeleteUserConversations removes every conversation owned by user and
	// returns how many it removed (0 is not an error).
	DeleteUserConversations(ctx context.Context, user UserKey) (int, error)
}

// PendingLink is what a one-time link id or OAuth state is bound to: the
// platform user who asked, and where to tell them the result.
type PendingLink struct {
	User    UserKey
	Locale  string
	Channel string // where the request was made, for the "Linked as" notice
	Thread  string
	DM      bool
	// Interaction is the adapter-private handle of the interaction that
	// asked (a Discord slash command), if any, so the result can be told
	// privately. Opaque to the store, which seals it.
	Interaction string
	CreatedAt   time.Time
	// UserName is the user's display name on the platform and
	// WorkspaceName the server's or workspace's name, when known: the
	// confirmation page names the chat account being linked with them.
	UserName      string
	WorkspaceName string
	// BrowserHash, on an OAuth state, is the SHA-256 (hex) of the random
	// nonce held in a cookie by the browser that continued the link: the
	// callback is refused in any other browser.
	BrowserHash string
}

// States stores one-time ids (link ids and OAuth states) with a TTL. The
// ids are secrets: backends store only their keyed hash (Sealer.HashID),
// and seal PendingLink.Interaction.
type States interface {
	// PutState stores p under id for ttl (ttl > 0). Returns ErrConflict if
	// id already exists and has not expired.
	PutState(ctx context.Context, id string, p PendingLink, ttl time.Duration) error
	// ConsumeState atomically returns and deletes the state of id. Exactly
	// one of any number of concurrent callers (across replicas) gets it;
	// the others, and any caller after expiry, get ErrNotFound.
	ConsumeState(ctx context.Context, id string) (PendingLink, error)
	// GetState returns the state of id without consuming it (the link
	// confirmation page reads it; link previewers must not burn a link),
	// or ErrNotFound when it is absent, expired or consumed.
	GetState(ctx context.Context, id string) (PendingLink, error)
}

// Dedupe claims event ids so that each platform event is handled once.
type Dedupe interface {
	// Claim records id for ttl (ttl > 0). It returns true for the first
	// caller and false for every later caller until the claim expires. It is
	// atomic: of N concurrent callers exactly one gets true.
	Claim(ctx context.Context, id string, ttl time.Duration) (bool, error)
}

// Lease is a held lock. Fence increases strictly with every successful
// Acquire of the same key, across owners and replicas, and never repeats.
type Lease struct {
	Key    string
	Owner  string
	Fence  uint64
	Expiry time.Time
}

// Locks are per-key lease locks with fencing tokens.
type Locks interface {
	// Acquire takes the lock of key for owner for ttl (ttl > 0). It does not
	// block: if another owner holds an unexpired lease it returns
	// ErrConflict. Re-acquiring one's own unexpired lease returns a new
	// lease with a new, higher fence.
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (Lease, error)
	// Extend pushes the expiry of l to now+ttl and returns the new lease
	// (same fence). Returns ErrStaleFence if l is no longer the current
	// lease of its key (expired, released, or taken over).
	Extend(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// Release frees the lock if l is still current. Returns ErrStaleFence
	// otherwise; the lock of the newer holder is left untouched.
	Release(ctx context.Context, l Lease) error
	// Validate returns nil if l is the current unexpired lease of its key,
	// ErrStaleFence otherwise. Writers call it before a write that must not
	// come from a stale holder.
	Validate(ctx context.Context, l Lease) error
	// Break frees the lock of key if owner holds it, whatever the fence: a
	// live process takes over the leases of a dead owner (see Liveness).
	// Returns ErrNotFound when owner does not hold it.
	Break(ctx context.Context, key, owner string) error
}

// ReplyRef is a platform message that belongs to an in-flight reply. The
// fields are opaque to the store.
type ReplyRef struct {
	Channel string
	ID      string
	Extra   string
}

// InflightReply is a reply being streamed, recorded so that a reply left
// behind by a crashed process can be finalized at the next start-up.
type InflightReply struct {
	ID           string // unique per reply
	Owner        string // instance id of the replica streaming it
	Conversation ConversationKey
	// ReplyTo is the message the reply answers (platforms.Target.ReplyTo),
	// "" when none, so that the messages recovery sends answer it too.
	ReplyTo string
	Refs    []ReplyRef // platform messages posted so far, in order
	Text    string     // the text flushed so far
	// SessionID is the SecondMe session the reply belongs to (empty until
	// known), so that a reply cut off by a crash does not lose it: the
	// turn saves it only when it ends.
	SessionID string
	// Account is the SecondMe account (Link.SecondMeUserID) the turn was
	// answered with, so that a session kept by recovery is bound to the
	// account it was issued to (Conversation.Account); "" when unknown
	// (written by an older version).
	Account string
	Locale  string
	// AsName and AsAvatarURL are the persona the reply is posted under
	// (the user's SecondMe name and picture), "" for the bot, so that the
	// final edit of a reply left unfinished keeps its identity.
	AsName      string
	AsAvatarURL string
	// Native is set when the last ref is a native stream message (Slack),
	// which is finished by appending and stopping it, not by an edit.
	Native bool
	// FinalParts, when set, are the reply's final messages still to be
	// shown: the last ref is to show the first (it is edited to it) and
	// the rest follow as new messages; with no ref, all are sent. An
	// edited reply (not Native) writes them before its final delivery and
	// again after each further message it sends, so that recovery finishes
	// a reply cut off while its final waited for its budget, or between
	// the delivery and the end of its turn, with its whole text (and no
	// restart notice) instead of the preview it showed, or of the notice
	// alone. Text still holds what the last ref showed.
	FinalParts []string
	// Live is set by owners that keep a liveness record (see Liveness), so
	// that the record may be taken over as soon as its owner's liveness
	// record is gone; records of older versions are finalized only by the
	// stale-after rule.
	Live      bool
	StartedAt time.Time
	UpdatedAt time.Time // refreshed at least every few seconds while live
}

// Replies stores in-flight replies.
type Replies interface {
	// PutReply creates or replaces r.
	PutReply(ctx context.Context, r InflightReply) error
	// DeleteReply removes the reply of id. Returns ErrNotFound when absent.
	DeleteReply(ctx context.Context, id string) error
	// ListReplies returns every in-flight reply whose UpdatedAt is before
	// olderThan (the zero time lists them all), in no particular order.
	ListReplies(ctx context.Context, olderThan time.Time) ([]InflightReply, error)
}

// Limit is a token bucket: Rate tokens per second refill a bucket of Burst
// tokens (the bucket starts full).
type Limit struct {
	Rate  float64
	Burst int
}

// Budgets are token buckets shared by every replica, keyed by name (for
// example "discord:channel:123" or "slack:team:T1:chat.update").
type Budgets interface {
	// Take atomically takes n tokens from the bucket of key under limit. If
	// the bucket has them it returns (true, 0); otherwise it takes nothing
	// and returns (false, wait), wait being how long until n tokens will be
	// there. Buckets idle long enough to be full may be forgotten.
	Take(ctx context.Context, key string, limit Limit, n int) (bool, time.Duration, error)

	// Reserve takes one token from every bucket, all or none, in one round
	// trip, to be spent at a chosen moment: the due moment is `after` from
	// now on the store's clock. The caller spends the tokens no earlier
	// than that and no later than the bucket's Grace after it; the pacing
	// arithmetic on the caller's side (the spend interval on its own
	// clock, how much grace to ask for) is the caller's (bridge/budget).
	// Reserving ahead takes the store round trip off the path of the
	// request the tokens pay for.
	//
	// The buckets follow GCRA (a token bucket that can answer for a moment
	// in the future): granting a token advances the bucket's theoretical
	// arrival time by 1/Rate from the later of itself and the due moment.
	// A bucket keeps its Grace in hand (it grants a burst of
	// ⌊Burst - Rate×Grace⌋ tokens, at least 1), so that tokens spent up to
	// the grace late, or reserved out of order, never exceed the limit at
	// the moments they are spent (to within half a microsecond, the
	// rounding a grant allows for). Reservation buckets have their own
	// state: the same key used with Take is another bucket.
	//
	// When a bucket lacks a token, nothing is taken: Grant.OK is false,
	// Short lists the indexes of the buckets that lacked one and Wait is
	// how much later than the due moment every bucket would grant. No
	// buckets is granted without a round trip; a key listed twice, an
	// invalid limit, a Burst/Rate over ten years, a Grace that is negative
	// or over (Burst-1)/Rate, or an after that is negative or over ten
	// years is an error.
	Reserve(ctx context.Context, buckets []Bucket, after time.Duration) (Grant, error)

	// ReserveEach decides several independent reservations in one round
	// trip where the backend allows: each request is all or none on its
	// own buckets, decided exactly as Reserve would decide the requests
	// one after another in order (a later request sees the tokens an
	// earlier one took; a refused request takes nothing). The grants are
	// in the order of reqs. Every request is checked as Reserve checks
	// its arguments before anything is decided: one invalid request is an
	// error and nothing is taken. An empty list, or requests without
	// buckets only, is granted without a round trip. On Redis Cluster
	// without a hash tag in the key prefix the requests go one by one
	// (Reserve's own fallback), in order.
	//
	// A request with a Within lets the store choose its due moment: it is
	// due at the earliest moment m, no earlier than now+After and no later
	// than now+After+Within, at which its FIRST bucket has a token (m is
	// now+After plus a whole number of microseconds, Within counted in
	// whole microseconds); it is granted when every other bucket has a
	// token at m too, exactly as Reserve(after = m − now) would be. Grant.At
	// is m − now; the caller spends the tokens no earlier than m and no
	// later than each bucket's Grace after it, as with Reserve. The first
	// bucket's moments are taken in order with no gap (m is its own
	// earliest), so successive requests led by a shared bucket are placed
	// 1/Rate apart, as a batch of tokens due at later moments; a request
	// whose other buckets lack a token at m takes nothing, and the next one
	// may take m. When refused, At is the moment Short and Wait refer to
	// (m, or now+After+Within when the first bucket has no token by then:
	// Short then holds 0). Within 0 is Reserve's own decision (At = After).
	// A Within that is negative or takes After+Within over ten years is an
	// error. (Where the requests go one by one, each reads the store's
	// clock in its own round trip: a request's At is from that "now".)
	ReserveEach(ctx context.Context, reqs []Reservation) ([]Grant, error)

	// Lease takes up to want tokens at once from the reservation bucket
	// of key under limit (the bucket Reserve uses, with the same GCRA
	// arithmetic), in one round trip: a process leases a batch of a
	// shared budget and decides the calls it pays for on its own. It
	// grants as many as Reserve(after 0) would grant one after another at
	// this moment (Granted ≤ want; possibly 0) and, when fewer than want,
	// Wait is how long until one more would be. Leased tokens are due at
	// once: spend each within b.Grace of the answer or give it
	// back with Return (holding a token longer may exceed the limit when
	// it is spent). want below 1 or above the burst, an empty key or an
	// invalid limit is an error.
	Lease(ctx context.Context, b Bucket, want int) (Leased, error)
	// Return gives back n tokens leased from key under limit and not
	// spent, in one round trip: the bucket is as if they had never been
	// leased. Returning tokens that were not leased (or were spent)
	// breaks the limit; n below 1 or above the burst is an error.
	Return(ctx context.Context, b Bucket, n int) error
}

// LocalBudgets is implemented by a Budgets that can tell whether it
// decides in the caller's process: no network round trip, no write to a
// file (the memory store; bolt with its budgets in memory). A decision
// then costs microseconds of CPU, so its callers need not hold calls back
// to share one (bridge/budget asks at once). A wrapper around a Budgets
// forwards its backend's answer (BudgetsLocal).
type LocalBudgets interface {
	Budgets
	// Local reports whether the decisions are made in this process.
	Local() bool
}

// BudgetsLocal reports whether b decides in the caller's process
// (LocalBudgets); a Budgets that does not say is taken to be remote.
func BudgetsLocal(b Budgets) bool {
	l, ok := b.(LocalBudgets)
	return ok && l.Local()
}

// Leased is the outcome of Budgets.Lease.
type Leased struct {
	// Granted is how many tokens were taken, 0 to want.
	Granted int
	// Wait, when Granted is less than want, is how long until the bucket
	// would grant one more token.
	Wait time.Duration
}

// Bucket names a reservation bucket, its limit and the grace its tokens
// may be spent late by (see Budgets.Reserve; 0 for none).
type Bucket struct {
	Key   string
	Limit Limit
	Grace time.Duration
}

// Reservation is one request of Budgets.ReserveEach: one token of every
// bucket, all or none, due After from now on the store's clock, or up to
// Within later, at the first bucket's earliest moment (see ReserveEach).
type Reservation struct {
	Buckets []Bucket
	After   time.Duration
	Within  time.Duration
}

// Grant is the outcome of Budgets.Reserve.
type Grant struct {
	// OK reports that one token was taken from every bucket.
	OK bool
	// Wait, when not OK, is how long after the due moment every bucket
	// would have a token.
	Wait time.Duration
	// Short, when not OK, holds the indexes (into the buckets passed to
	// Reserve) of the buckets that lacked a token.
	Short []int
	// At (ReserveEach only) is the request's due moment from now on the
	// store's clock when OK, the moment Wait and Short refer to when not:
	// After, or later by up to the request's Within.
	At time.Duration
	// Clock (ReserveEach only) is the store's clock reading that At is
	// counted from: the "now" every request of the call was decided at,
	// read between the call's sending and its answer. The caller may
	// estimate from it where the store's clock stands against its own, and
	// so when the tokens are due on its own clock, more closely than the
	// round trip allows (bridge/budget's storeClock). Zero when the store
	// does not report one (Redis Cluster without a hash tag, where each
	// request reads the clock of its own node; and grants made without a
	// round trip).
	Clock time.Time
}

// Admission is the outcome of Turns.Admit.
type Admission struct {
	// Claimed is false when any id had been claimed before (a duplicate).
	Claimed bool
	// Allowed reports whether the rate token was taken (only tried when
	// Claimed); Wait is how long until one will be there when not.
	Allowed bool
	Wait    time.Duration
	// Full (Turns.Enter only) reports that the conversation's inbox already
	// held its bound of entries: the claims stand and the token was taken,
	// but the entry was not written.
	Full bool
}

// TurnStart is what Turns.Begin returns: the lease, and what the turn needs
// to read under it.
type TurnStart struct {
	Lease Lease
	// Conversation is the stored conversation (HasConversation false when
	// absent or expired).
	Conversation    Conversation
	HasConversation bool
	// Link is the link of the conversation's user, tokens decrypted
	// (HasLink false when there is none).
	Link    Link
	HasLink bool
}

// Turns are composite operations for the bridge's per-message hot path. Each
// is atomic where it says so and costs ONE round trip to a shared backend
// (one Lua script or one pipeline in Redis, one transaction in bolt), so
// that a chat message costs a small fixed number of round trips whatever it
// involves. Their effects are exactly those of the single-aggregate methods
// they combine (the same keys, TTLs and encodings), so the two can be mixed.
type Turns interface {
	// Admit claims every id in ids (first claim wins, each for claimTTL,
	// as Dedupe.Claim) and, only if every id was new, takes one token from
	// the bucket rateKey under rate (as Budgets.Take). Atomic.
	//
	// Each claim is independent, as separate Dedupe.Claim calls would be:
	// when some ids had been claimed before, the new ones are claimed all
	// the same (Claimed is false, no token is taken). The claims also stand
	// when the token is refused (Claimed true, Allowed false): a caller that
	// waits must not Admit the same ids again (they are now duplicates) but
	// take its token with Budgets.Take. An id listed twice counts once; an
	// empty id, claimTTL <= 0 or an invalid rate is an error (nothing
	// written); an empty ids claims nothing and only takes the token.
	Admit(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate Limit) (Admission, error)
	// Enter is Admit plus, when the ids were new and the token was taken,
	// writing e to its conversation's inbox with the next Seq, all
	// atomically, unless bound entries of e.Conversation are already there
	// (then Full, nothing written but the claims and the token). e.ID,
	// e.Owner and e.Conversation.Platform must not be empty, bound must be
	// positive, and an ID already in the inbox is an error.
	Enter(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate Limit, e InboxEntry, bound int) (Admission, error)
	// Begin acquires the lock key for owner for ttl (as Locks.Acquire) and,
	// in the same round trip, reads the conversation conv and the link of
	// conv.UserKey(). ErrConflict when another owner holds the lock; then
	// nothing else is returned. A link that no configured key opens is
	// reported absent (HasLink false). If the stored conversation or link
	// cannot be decoded otherwise (corrupt JSON), Begin returns that error
	// and does not hold the lock. The TurnStart is the caller's own, and nil
	// with an error: it is returned by pointer so that its few hundred
	// bytes are not copied through every frame between the store and the
	// conversation's worker, whose stack then fits a smaller size class.
	Begin(ctx context.Context, key, owner string, ttl time.Duration, conv ConversationKey) (*TurnStart, error)
	// Finish, if l is still the current lease of its key: stores c for ttl
	// (when c is non-nil), deletes the in-flight reply replyID and the inbox
	// entry of the same id (when non-empty; absent ones are fine) and
	// releases the lock, all atomically. Otherwise it writes nothing and returns ErrStaleFence:
	// this is where the fencing token protects the conversation.
	Finish(ctx context.Context, l Lease, c *Conversation, ttl time.Duration, replyID string) error
}

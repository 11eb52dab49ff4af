package platforms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Platform is the required part of a chat platform adapter (Discord, Slack).
// Optional abilities are separate interfaces (Editor, Streamer, Typer,
// Ephemeraler, Deleter, Budgeter, ThreadOpener) that the bridge resolves once
// into a Caps value (ResolveCaps).
type Platform interface {
	// Name is the adapter's stable name ("discord", "slack"). It is used in
	// store keys and metrics; it never changes for a given adapter.
	Name() string
	// Limits declares the platform's message limits. It must be cheap and
	// constant.
	Limits() Limits
	// Run connects and delivers every event the bridge should see to h,
	// until ctx is done (then it disconnects and returns nil) or the
	// connection fails for good (then it returns the error). It reconnects
	// by itself after transient failures. Run is called once. h.HandleEvent
	// may be called from several goroutines at once.
	Run(ctx context.Context, h Handler) error
	// Ready reports whether the adapter is currently connected (for
	// /readyz).
	Ready() bool
	// Send posts m to the target and returns a reference to the posted
	// message, for later edits. Send never pings anyone: adapters disable
	// every mention (Discord AllowedMentions empty, Slack special mentions
	// neutralized). Errors: *RateLimitError on 429, ErrTooLong when the
	// text exceeds the platform's limit, other errors as they come.
	Send(ctx context.Context, to Target, m Message) (MessageRef, error)
}

// Editor edits a message sent earlier.
type Editor interface {
	// Edit replaces the text of ref with m. It returns the reference to use
	// from now on: normally ref itself, but an adapter may move the message
	// (Discord moves an interaction response to a channel message before
	// the 15-minute interaction token expires). Edit never retries a 429
	// itself: it returns *RateLimitError and the bridge decides.
	Edit(ctx context.Context, ref MessageRef, m Message) (MessageRef, error)
}

// Streamer is native streaming (Slack chat.startStream/appendStream/
// stopStream).
type Streamer interface {
	// CanStream reports whether a native stream is possible for to (for
	// Slack: a human trigger, in a thread or DM, native streaming not
	// latched off for the workspace). It does no I/O.
	CanStream(to Target) bool
	// StartStream opens a stream message with the first text.
	StartStream(ctx context.Context, to Target, text string) (MessageRef, error)
	// AppendStream appends delta (not the full text) to the stream.
	AppendStream(ctx context.Context, ref MessageRef, delta string) error
	// StopStream finalizes the stream.
	StopStream(ctx context.Context, ref MessageRef) error
	// Errors: ErrStreamUnsupported (wrapped) means native streaming cannot
	// work here, permanently; the adapter latches it off for the workspace
	// and the bridge falls back to Send + Edit. *RateLimitError on 429.
}

// Typer shows that the bot is working ("typing…" on Discord, the assistant
// thread status on Slack).
type Typer interface {
	// Typing starts or refreshes the indicator. On Discord it lasts about
	// 10 s; the bridge calls it again every TypingInterval until the first
	// text is visible.
	Typing(ctx context.Context, to Target) error
}

// Ephemeraler sends a message that only to.User sees.
type Ephemeraler interface {
	// SendEphemeral sends m privately to to.User: with to.Interaction set,
	// as a private answer or follow-up to that interaction; otherwise as a
	// message only to.User sees in to.Channel (Slack chat.postEphemeral), or
	// as a direct message where the platform has no such thing (Discord).
	SendEphemeral(ctx context.Context, to Target, m Message) error
}

// Deleter deletes a message sent earlier.
type Deleter interface {
	Delete(ctx context.Context, ref MessageRef) error
}

// ThreadOpener opens a thread for the bridge's answer to a message (Discord's
// auto_thread). An adapter that wants one sets Event.WantsThread instead of
// opening it itself; the bridge calls OpenThread only once the message is
// admitted (not a duplicate, within the user's rate limit) and its user is
// linked, so that rejected messages never leave an empty thread behind.
type ThreadOpener interface {
	// OpenThread opens a thread on the message to.ReplyTo in to.Channel and
	// returns its id, which is the id Event.Thread already announced for
	// the conversation (on Discord the starter message's id). name is a
	// suggestion (the question's text): the adapter shortens it to the
	// platform's limit. A thread that already exists (opened by another
	// replica or a redelivery) is not an error: its id is returned. On an
	// error the bridge answers in to.Channel.
	OpenThread(ctx context.Context, to Target, name string) (ThreadID, error)
}

// Budgeter declares the shared rate budgets that posting and updating draw
// from (per channel, per workspace, per bot token, per interaction). The
// bridge takes one token from every returned budget, in the shared store,
// before a message goes out: an intermediate update is skipped if any is
// empty; a first or final message waits for them. Both methods are pure (no
// I/O) and may be called concurrently.
type Budgeter interface {
	// UpdateBudgets are the budgets an edit or stream append of ref uses.
	UpdateBudgets(ref MessageRef) []Budget
	// SendBudgets are the budgets a new message to `to` uses (an
	// interaction answer has its own, outside the channel's).
	SendBudgets(to Target) []Budget
}

// TypingBudgeter is implemented by a Budgeter whose typing indicator draws
// from shared budgets too (Discord's typing calls count against the bot's
// global limit). The bridge takes them at the lowest priority of the calls
// that wait.
type TypingBudgeter interface {
	// TypingBudgets are the budgets a typing call in `to` uses (none when
	// typing there costs no platform call).
	TypingBudgets(to Target) []Budget
}

// Budget is a shared token bucket: Rate tokens per second, Burst at most.
type Budget struct {
	Key   string
	Rate  float64
	Burst int
}

// Dialect is the Markdown flavour a platform renders.
type Dialect int

// Dialects.
const (
	// DialectMarkdown is CommonMark-like Markdown (Discord messages, Slack
	// markdown blocks and streams).
	DialectMarkdown Dialect = iota
	// DialectSlackMrkdwn is Slack's mrkdwn.
	DialectSlackMrkdwn
)

// Limits are a platform's message limits.
type Limits struct {
	// MaxMessageChars is the longest text one message may carry, counted
	// in Unicode code points (Discord 2000; Slack about 3900 in practice).
	MaxMessageChars int
	// Dialect is the Markdown flavour.
	Dialect Dialect
	// TypingInterval is how often the typing indicator must be refreshed
	// (0: once is enough).
	TypingInterval time.Duration
	// CommandPrefix is how a user invokes the bridge's command X on this
	// platform: CommandPrefix + X. "" means "/" (Discord's /link); Slack's
	// is "/secondme " (/secondme link). The bridge's texts name commands
	// this way.
	CommandPrefix string
	// CommandNamesZH maps a command name ("link") to the name Simplified
	// Chinese (zh-CN) users see and type ("绑定" on Discord, whose
	// commands are localized); nil when the platform does not localize
	// command names. A pointer, so that Limits stays comparable.
	CommandNamesZH *CommandNames
}

// CommandNames maps the bridge's command names to a platform's localized
// names.
type CommandNames map[string]string

// MessageRef points at a posted message. The fields are opaque to the
// bridge, which only stores and hands them back.
type MessageRef struct {
	// Channel is the channel the message is in (on Discord a thread is a
	// channel: a message in a thread has the thread's id here).
	Channel ChannelID
	ID      MessageID
	Extra   string // adapter-private (e.g. an interaction token handle)
}

// Target says where a message goes.
type Target struct {
	Workspace WorkspaceID
	Channel   ChannelID
	Thread    ThreadID
	DM        bool
	// WantsThread says the answer belongs in a thread that does not exist
	// yet (Event.WantsThread): Thread is "" and the bridge opens the
	// thread on ReplyTo (ThreadOpener) before it answers there. Send and
	// the other methods ignore it.
	WantsThread bool
	// User is the person the bridge answers (for ephemeral messages and
	// Slack native streams).
	User UserID
	// ReplyTo is the id of the triggering message, when the platform
	// threads replies to it (Discord message reference).
	ReplyTo MessageID
	// Interaction is an adapter-private handle to the interaction (slash
	// command, context-menu command) being answered, or "". When set, the
	// first Send answers the interaction instead of posting a new message.
	Interaction string
	// Ephemeral asks, for an interaction, that the answer be private.
	Ephemeral bool
}

// Message is what the bridge posts.
type Message struct {
	Text string
	// Buttons are link buttons (a URL to open), rendered under the text.
	Buttons []LinkButton
	Stop    *StopControl // a Stop button while the reply streams; nil removes it (control.go)
	// As, when set, posts the message under that identity (see Persona).
	As *Persona
}

// LinkButton is a button that opens a URL.
type LinkButton struct {
	Label string
	URL   string
}

// ErrTooLong is returned when a message exceeds the platform's limit.
var ErrTooLong = errors.New("platforms: message too long")

// ErrStreamUnsupported is returned by Streamer methods when native streaming
// is not possible for the target, permanently.
var ErrStreamUnsupported = errors.New("platforms: native streaming unsupported")

// RateLimitError is a platform 429. RetryAfter is how long the platform asked
// us to wait (0 when it did not say).
type RateLimitError struct {
	Platform   string
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: rate limited, retry after %s", e.Platform, e.RetryAfter)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

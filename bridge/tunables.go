package bridge

import (
	"errors"
	"time"
)

// Tunables are the settings that may change while the bridge runs (the
// process re-reads its config on SIGHUP). A change applies to what starts
// after it: a reply already streaming keeps the edit interval it started
// with, a session already open keeps the system prompt it was opened with,
// a message already queued stays queued.
type Tunables struct {
	// SystemPrompt goes with the first turn of every new session.
	SystemPrompt string
	// EditInterval is the minimum time between two updates of one message
	// of a reply that starts after the change.
	EditInterval time.Duration
	// MaxInputChars is the longest accepted message, in code points.
	MaxInputChars int
	// QueueSize is how many messages may wait per conversation.
	QueueSize int
	// UserRateLimit is how many messages a user may send per minute.
	UserRateLimit int
	// ReplyAs is who replies that start after the change are posted as
	// ("" is ReplyAsAvatar).
	ReplyAs ReplyAs
}

// ReplyAs is who a reply is posted as (bridge.reply_as).
type ReplyAs string

// Values of ReplyAs.
const (
	// ReplyAsAvatar posts a linked user's replies under their SecondMe
	// name and picture (platforms.Persona), where the platform allows and
	// the account has a name; otherwise as the bot.
	ReplyAsAvatar ReplyAs = "avatar"
	// ReplyAsBot posts every reply as the bot.
	ReplyAsBot ReplyAs = "bot"
)

// errBadTunables is returned by SetTunables for a value out of range.
var errBadTunables = errors.New("set tunables: edit interval, max input chars, queue size and user rate limit must be greater than 0, and reply as avatar or bot")

// SetTunables replaces the live settings. It never blocks and is safe to
// call concurrently with everything else; it returns errBadTunables (and
// changes nothing) when a value is out of range.
func (b *Bridge) SetTunables(t Tunables) error {
	if t.ReplyAs == "" {
		t.ReplyAs = ReplyAsAvatar
	}
	if t.EditInterval <= 0 || t.MaxInputChars <= 0 || t.QueueSize <= 0 || t.UserRateLimit <= 0 ||
		(t.ReplyAs != ReplyAsAvatar && t.ReplyAs != ReplyAsBot) {
		return errBadTunables
	}
	b.tun.Store(&t)
	return nil
}

// Tunables returns the live settings.
func (b *Bridge) Tunables() Tunables { return *b.tunables() }

func (b *Bridge) tunables() *Tunables { return b.tun.Load() }

// tunablesOf returns the live settings of a validated, defaulted cfg.
func tunablesOf(cfg Config) *Tunables {
	return &Tunables{
		SystemPrompt:  cfg.SystemPrompt,
		EditInterval:  cfg.EditInterval,
		MaxInputChars: cfg.MaxInputChars,
		QueueSize:     cfg.QueueSize,
		UserRateLimit: cfg.UserRateLimit,
		ReplyAs:       cfg.ReplyAs,
	}
}

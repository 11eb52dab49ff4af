package text

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Lang is how a text is written for one user on one platform: the
// catalog of the user's language (internal/i18n, the texts under "chat."),
// and how that platform invokes commands (the catalog names them "/link",
// "/help", …; Slack's are "/secondme link", …).
type Lang struct {
	cat *i18n.Catalog
	cmd string // platforms.Limits.CommandPrefix; "" or "/" leaves "/link"
	// names are the localized command names a zh-CN user sees on this
	// platform (Discord's /绑定 for /link), or nil. A pointer keeps Lang
	// comparable.
	names *platforms.CommandNames
}

// Two catalog languages, with the default command prefix (tests and
// defaults).
var (
	EN = Lang{cat: i18n.Default()} // English, the default
	ZH = Lang{cat: i18n.Get("zh")} // Simplified Chinese
)

// Of maps a platform locale (BCP 47, any case, "-" or "_") to a catalog
// language (i18n.Match: every Chinese tag, "zh", "zh-CN", "zh-Hans-SG",
// "zh-TW", …, gets Simplified Chinese, which Traditional readers can read;
// a locale no catalog matches gets English). p (nil allowed) supplies the
// command prefix.
func Of(locale string, p platforms.Platform) Lang {
	l := Lang{cat: i18n.Match(locale)}
	if p != nil {
		l.cmd = p.Limits().CommandPrefix
	}
	loc := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(locale)), "_", "-")
	if p != nil && loc == "zh-cn" {
		// Discord shows localized command names to zh-CN clients only.
		l.names = p.Limits().CommandNamesZH
	}
	return l
}

// catalog returns l's catalog (the default one for the zero Lang).
func (l Lang) catalog() *i18n.Catalog {
	if l.cat == nil {
		return i18n.Default()
	}
	return l.cat
}

// Language returns the catalog language of l ("en", "zh").
func (l Lang) Language() string { return l.catalog().Language }

// Commands rewrites the commands named in s ("/link") as l's platform
// spells them ("/secondme link", a localized name): for texts composed
// from catalog pieces after formatting (the generated help).
func (l Lang) Commands(s string) string {
	s = withCommands(s, l.cmd)
	if l.names != nil {
		s = withNames(s, *l.names)
	}
	return s
}

// commandRef matches a command named in a catalog text: "/link" at the
// start, after white space, a bullet or an opening bracket.
var commandRef = regexp.MustCompile(`(^|[\s•(（])/(link|unlink|new|ask|whoami|memory|note|sessions|help)\b`)

// prefixed caches the catalog texts rewritten for a command prefix:
// prefix + "\x00" + text → rewritten text.
var prefixed sync.Map

// withCommands rewrites the commands named in a catalog text for prefix
// ("/link" → "/secondme link"). Only catalog texts go through it, never
// arguments (names, memories, the avatar's words).
func withCommands(s, prefix string) string {
	if prefix == "" || prefix == "/" || !strings.Contains(s, "/") {
		return s
	}
	k := prefix + "\x00" + s
	if v, ok := prefixed.Load(k); ok {
		return v.(string)
	}
	out := commandRef.ReplaceAllString(s, "${1}"+strings.ReplaceAll(prefix, "$", "$$")+"${2}")
	prefixed.Store(k, out)
	return out
}

// withNames rewrites the commands named in a catalog text to their
// localized names ("/link" → "/绑定").
func withNames(s string, names platforms.CommandNames) string {
	return commandRef.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.IndexByte(m, '/')
		if name, ok := names[m[i+1:]]; ok {
			return m[:i+1] + name
		}
		return m
	})
}

// Key names a user-facing message.
type Key string

// The catalog keys.
const (
	MsgNotLinked        Key = "not_linked"
	MsgLinkBroken       Key = "link_broken"
	MsgMissingScope     Key = "missing_scope"
	MsgMissingScopeAny  Key = "missing_scope_any"
	MsgOperator         Key = "operator"
	MsgBusy             Key = "busy"
	MsgBusyNoWait       Key = "busy_no_wait"
	MsgUpstream         Key = "upstream"
	MsgUnavailable      Key = "unavailable"
	MsgInternal         Key = "internal"
	MsgTimeout          Key = "timeout"
	MsgInterrupted      Key = "interrupted"
	MsgRestarted        Key = "restarted"
	MsgSlowDown         Key = "slow_down"
	MsgTooLong          Key = "too_long"
	MsgQueueFull        Key = "queue_full"
	MsgEmptyMessage     Key = "empty_message"
	MsgEmptyReply       Key = "empty_reply"
	MsgLinkPrompt       Key = "link_prompt"
	MsgLinkButton       Key = "link_button"
	MsgLinkRateLimited  Key = "link_rate_limited"
	MsgLinked           Key = "linked"
	MsgLinkedReplaced   Key = "linked_replaced"
	MsgUnlinked         Key = "unlinked"
	MsgUnlinkNone       Key = "unlink_none"
	MsgNewSession       Key = "new_session"
	MsgAskUsage         Key = "ask_usage"
	MsgMemoryUsage      Key = "memory_usage"
	MsgNoteUsage        Key = "note_usage"
	MsgSaveEmpty        Key = "save_empty"
	MsgAskAboutEmpty    Key = "askabout_empty"
	MsgAskAboutPrompt   Key = "askabout_prompt"
	MsgWhoamiUnnamed    Key = "whoami_unnamed"
	MsgWhoamiInterests  Key = "whoami_interests"
	MsgWhoamiPublicOnly Key = "whoami_public_only"
	MsgRepliesAvatar    Key = "replies_avatar"
	MsgRepliesBotConfig Key = "replies_bot_config"
	MsgRepliesBotNoName Key = "replies_bot_no_name"
	MsgInputNotRead     Key = "input_not_read"
	MsgInputReasonType  Key = "input_reason_type"
	MsgInputReasonHost  Key = "input_reason_host"
	MsgInputReasonFail  Key = "input_reason_failed"
	MsgInputReasonLimit Key = "input_reason_limit"
	MsgMemoryHeader     Key = "memory_header"
	MsgMemoryPage       Key = "memory_page"
	MsgMemoryNone       Key = "memory_none"
	MsgNoteSaved        Key = "note_saved"
	MsgNoteSavedMemory  Key = "note_saved_memory"
	MsgNoteTooLong      Key = "note_too_long"
	MsgSessionsHeader   Key = "sessions_header"
	MsgSessionsNone     Key = "sessions_none"
	MsgSessionLine      Key = "session_line"
	MsgSessionNoMessage Key = "session_no_message"
	MsgPrivateOnly      Key = "private_only"
	MsgNotHere          Key = "not_here"
	MsgUnknownCommand   Key = "unknown_command"
	MsgHelp             Key = "help"
	MsgHelpLine         Key = "help_line"
	MsgHelpMenu         Key = "help_menu"
	MsgStopButton       Key = "stop_button"
	MsgStopped          Key = "stopped"
	MsgStopNotYours     Key = "stop_not_yours"
)

// The texts of these keys are the "chat.<key>" entries of the catalogs in
// internal/i18n/locales (one file per language). Texts with verbs take fmt
// arguments in the order the call sites pass them.

// NotHereText is the private answer to a command used where the platform's
// allow-lists don't let the bot answer, in the language of locale (see
// Of). Adapters get it through their config (discord.Config.NotHereText),
// so that the wording stays in this catalog.
func NotHereText(locale string) string { return T(Of(locale, nil), MsgNotHere) }

// tr returns the text of key in l, formatted with args. An unknown key
// yields the key itself, so a mistake shows up instead of an empty message.
func T(l Lang, key Key, args ...any) string {
	k := "chat." + string(key)
	if !i18n.Default().Has(k) {
		return string(key)
	}
	s := l.Commands(l.catalog().Text(k))
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// DisplayName is how a SecondMe account is named to the user.
func DisplayName(link store.Link, l Lang) string {
	switch {
	case link.Name != "":
		return link.Name
	case link.SecondMeUserID != "":
		return link.SecondMeUserID
	}
	return T(l, MsgWhoamiUnnamed)
}

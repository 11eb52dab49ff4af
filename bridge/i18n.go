package bridge

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// lang is how a text is written for one user on one platform: the
// catalog of the user's language (internal/i18n, the texts under "chat."),
// and how that platform invokes commands (the catalog names them "/link",
// "/help", …; Slack's are "/secondme link", …).
type lang struct {
	cat *i18n.Catalog
	cmd string // platforms.Limits.CommandPrefix; "" or "/" leaves "/link"
	// names are the localized command names a zh-CN user sees on this
	// platform (Discord's /绑定 for /link), or nil. A pointer keeps lang
	// comparable.
	names *platforms.CommandNames
}

// Two catalog languages, with the default command prefix (tests and
// defaults).
var (
	langEN = lang{cat: i18n.Default()} // English, the default
	langZH = lang{cat: i18n.Get("zh")} // Simplified Chinese
)

// langOf maps a platform locale (BCP 47, any case, "-" or "_") to a catalog
// language (i18n.Match: every Chinese tag, "zh", "zh-CN", "zh-Hans-SG",
// "zh-TW", …, gets Simplified Chinese, which Traditional readers can read;
// a locale no catalog matches gets English). p (nil allowed) supplies the
// command prefix.
func langOf(locale string, p platforms.Platform) lang {
	l := lang{cat: i18n.Match(locale)}
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

// catalog returns l's catalog (the default one for the zero lang).
func (l lang) catalog() *i18n.Catalog {
	if l.cat == nil {
		return i18n.Default()
	}
	return l.cat
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

// msgKey names a user-facing message.
type msgKey string

// The catalog keys.
const (
	msgNotLinked        msgKey = "not_linked"
	msgLinkBroken       msgKey = "link_broken"
	msgMissingScope     msgKey = "missing_scope"
	msgMissingScopeAny  msgKey = "missing_scope_any"
	msgOperator         msgKey = "operator"
	msgBusy             msgKey = "busy"
	msgBusyNoWait       msgKey = "busy_no_wait"
	msgUpstream         msgKey = "upstream"
	msgUnavailable      msgKey = "unavailable"
	msgInternal         msgKey = "internal"
	msgTimeout          msgKey = "timeout"
	msgInterrupted      msgKey = "interrupted"
	msgRestarted        msgKey = "restarted"
	msgSlowDown         msgKey = "slow_down"
	msgTooLong          msgKey = "too_long"
	msgQueueFull        msgKey = "queue_full"
	msgEmptyMessage     msgKey = "empty_message"
	msgEmptyReply       msgKey = "empty_reply"
	msgLinkPrompt       msgKey = "link_prompt"
	msgLinkButton       msgKey = "link_button"
	msgLinkRateLimited  msgKey = "link_rate_limited"
	msgLinked           msgKey = "linked"
	msgLinkedReplaced   msgKey = "linked_replaced"
	msgUnlinked         msgKey = "unlinked"
	msgUnlinkNone       msgKey = "unlink_none"
	msgNewSession       msgKey = "new_session"
	msgAskUsage         msgKey = "ask_usage"
	msgMemoryUsage      msgKey = "memory_usage"
	msgNoteUsage        msgKey = "note_usage"
	msgSaveEmpty        msgKey = "save_empty"
	msgAskAboutEmpty    msgKey = "askabout_empty"
	msgAskAboutPrompt   msgKey = "askabout_prompt"
	msgWhoamiUnnamed    msgKey = "whoami_unnamed"
	msgWhoamiInterests  msgKey = "whoami_interests"
	msgWhoamiPublicOnly msgKey = "whoami_public_only"
	msgMemoryHeader     msgKey = "memory_header"
	msgMemoryPage       msgKey = "memory_page"
	msgMemoryNone       msgKey = "memory_none"
	msgNoteSaved        msgKey = "note_saved"
	msgNoteSavedMemory  msgKey = "note_saved_memory"
	msgNoteTooLong      msgKey = "note_too_long"
	msgSessionsHeader   msgKey = "sessions_header"
	msgSessionsNone     msgKey = "sessions_none"
	msgSessionLine      msgKey = "session_line"
	msgSessionNoMessage msgKey = "session_no_message"
	msgPrivateOnly      msgKey = "private_only"
	msgNotHere          msgKey = "not_here"
	msgUnknownCommand   msgKey = "unknown_command"
	msgHelp             msgKey = "help"
)

// The texts of these keys are the "chat.<key>" entries of the catalogs in
// internal/i18n/locales (one file per language). Texts with verbs take fmt
// arguments in the order the call sites pass them.

// NotHereText is the private answer to a command used where the platform's
// allow-lists don't let the bot answer, in the language of locale (see
// langOf). Adapters get it through their config (discord.Config.NotHereText),
// so that the wording stays in this catalog.
func NotHereText(locale string) string { return tr(langOf(locale, nil), msgNotHere) }

// tr returns the text of key in l, formatted with args. An unknown key
// yields the key itself, so a mistake shows up instead of an empty message.
func tr(l lang, key msgKey, args ...any) string {
	k := "chat." + string(key)
	if !i18n.Default().Has(k) {
		return string(key)
	}
	s := withCommands(l.catalog().Text(k), l.cmd)
	if l.names != nil {
		s = withNames(s, *l.names)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

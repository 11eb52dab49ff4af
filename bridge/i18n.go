package bridge

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// lang is how a text is written for one user on one platform: the
// catalog's language, and how that platform invokes commands (the catalog
// names them "/link", "/help", …; Slack's are "/secondme link", …).
type lang struct {
	zh  bool   // Simplified Chinese; English otherwise
	cmd string // platforms.Limits.CommandPrefix; "" or "/" leaves "/link"
	// names are the localized command names a zh-CN user sees on this
	// platform (Discord's /绑定 for /link), or nil. A pointer keeps lang
	// comparable.
	names *platforms.CommandNames
}

// The catalog's languages, with the default command prefix.
var (
	langEN = lang{}         // English, the default
	langZH = lang{zh: true} // Simplified Chinese
)

// langOf maps a platform locale (BCP 47, any case, "-" or "_") to a catalog
// language: every Chinese tag ("zh", "zh-CN", "zh-Hans-SG", "zh-TW", …) gets
// Simplified Chinese, which Traditional readers can read; anything else gets
// English. p (nil allowed) supplies the command prefix.
func langOf(locale string, p platforms.Platform) lang {
	var l lang
	if p != nil {
		l.cmd = p.Limits().CommandPrefix
	}
	loc := strings.ToLower(strings.TrimSpace(locale))
	l.zh = loc == "zh" || strings.HasPrefix(loc, "zh-") || strings.HasPrefix(loc, "zh_")
	if p != nil && (loc == "zh-cn" || loc == "zh_cn") {
		// Discord shows localized command names to zh-CN clients only.
		l.names = p.Limits().CommandNamesZH
	}
	return l
}

// index is the column of l's language in the catalog.
func (l lang) index() int {
	if l.zh {
		return 1
	}
	return 0
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
	msgUnknownCommand   msgKey = "unknown_command"
	msgHelp             msgKey = "help"
)

// catalog holds every user-facing text in English and Simplified Chinese.
// Texts with verbs take fmt arguments in the order the call sites pass them.
var catalog = map[msgKey][2]string{
	msgNotLinked: {
		"You haven't linked your SecondMe account yet: run /link to connect it.",
		"你还没有绑定 SecondMe 账号：运行 /link 即可绑定。",
	},
	msgLinkBroken: {
		"Your SecondMe link has expired: run /link again.",
		"你的 SecondMe 账号绑定已失效：请重新运行 /link。",
	},
	msgMissingScope: {
		"Your SecondMe link lacks %s: run /link again.",
		"你的 SecondMe 账号绑定缺少 %s 权限：请重新运行 /link。",
	},
	msgMissingScopeAny: {
		"Your SecondMe link lacks a permission this needs: run /link again.",
		"你的 SecondMe 账号绑定缺少所需的权限：请重新运行 /link。",
	},
	msgOperator: {
		"The bridge is misconfigured, so your avatar can't answer right now: please tell the operator.",
		"桥接服务配置有误，你的分身暂时无法回答：请告知管理员。",
	},
	msgBusy: {
		"Your avatar is busy right now: try again in %d s.",
		"你的分身正忙：请 %d 秒后再试。",
	},
	msgBusyNoWait: {
		"Your avatar is busy right now: try again in a moment.",
		"你的分身正忙：请稍后再试。",
	},
	msgUpstream: {
		"Your avatar couldn't answer just now: please ask again in a minute.",
		"你的分身暂时无法回答：请过一分钟再问一次。",
	},
	msgUnavailable: {
		"SecondMe can't do that right now: please try again later.",
		"SecondMe 暂时无法完成这个操作：请稍后再试。",
	},
	msgInternal: {
		"Something went wrong on the bridge: please try again.",
		"桥接服务出了点问题：请再试一次。",
	},
	msgTimeout: {
		"Your avatar took too long to answer: please ask again.",
		"你的分身回答超时：请再问一次。",
	},
	msgInterrupted: {
		"⚠️ reply interrupted — ask again to continue",
		"⚠️ 回复中断——请再问一次以继续",
	},
	msgRestarted: {
		"⚠️ interrupted by a restart — please ask again",
		"⚠️ 因服务重启而中断——请再问一次",
	},
	msgSlowDown: {
		"You're sending messages faster than your avatar can answer: please slow down and try again in a minute.",
		"你发消息的速度超过了分身的回复速度：请放慢一点，一分钟后再试。",
	},
	msgTooLong: {
		"Your message is too long (%d characters; the limit is %d): please shorten it.",
		"你的消息太长了（%d 个字符，上限为 %d）：请缩短后再发。",
	},
	msgQueueFull: {
		"Still answering your previous messages, so I couldn't take this one: please send it again when I'm done.",
		"还在回答你之前的消息，这条没能接收：请等我回答完后再发一次。",
	},
	msgEmptyMessage: {
		"Ask me something after the mention, or use /help.",
		"请在提及我之后写下你的问题，或使用 /help。",
	},
	msgEmptyReply: {
		"(your avatar sent an empty reply)",
		"（你的分身返回了空回复）",
	},
	msgLinkPrompt: {
		"Open this one-time link to connect your SecondMe account:",
		"打开这个一次性链接，绑定你的 SecondMe 账号：",
	},
	msgLinkButton: {
		"Link SecondMe",
		"绑定 SecondMe",
	},
	msgLinkRateLimited: {
		"You've asked for too many links: please wait a few minutes and try again.",
		"你申请链接的次数太多了：请等几分钟再试。",
	},
	msgLinked: {
		"Linked as %s.",
		"已绑定为 %s。",
	},
	msgLinkedReplaced: {
		"Linked as %s (replaced %s).",
		"已绑定为 %s（替换了 %s）。",
	},
	msgUnlinked: {
		"Unlinked your SecondMe account %s; your conversations with it here are forgotten.",
		"已解除与 SecondMe 账号 %s 的绑定，这里与它的对话也已清除。",
	},
	msgUnlinkNone: {
		"No SecondMe account is linked to you.",
		"你没有绑定任何 SecondMe 账号。",
	},
	msgNewSession: {
		"Started a new conversation: your avatar won't remember what was said here before.",
		"已开始新的对话：你的分身不会再记得这里之前说过的内容。",
	},
	msgAskUsage: {
		"Usage: /ask <your question>",
		"用法：/ask <你的问题>",
	},
	msgMemoryUsage: {
		"Usage: /memory <keyword>",
		"用法：/memory <关键词>",
	},
	msgNoteUsage: {
		"Usage: /note <text>",
		"用法：/note <内容>",
	},
	msgSaveEmpty: {
		"That message has no text to save.",
		"这条消息没有可保存的文字。",
	},
	msgAskAboutEmpty: {
		"That message has no text to ask about.",
		"这条消息没有可询问的文字。",
	},
	msgAskAboutPrompt: {
		"What do you make of this message?\n\n%s",
		"你怎么看这条消息？\n\n%s",
	},
	msgWhoamiUnnamed: {
		"(no name)",
		"（未命名）",
	},
	msgWhoamiInterests: {
		"Interests: %s",
		"兴趣：%s",
	},
	msgWhoamiPublicOnly: {
		"(public profile only; use this command in a direct message to see everything)",
		"（仅显示公开资料；在私信中使用此命令可查看全部）",
	},
	msgMemoryHeader: {
		"Key memories matching “%s”:",
		"与“%s”相关的关键记忆：",
	},
	msgMemoryPage: {
		"Page 1 of %d (%d results).",
		"第 1 页，共 %d 页（%d 条结果）。",
	},
	msgMemoryNone: {
		"No key memories match “%s”.",
		"没有与“%s”相关的关键记忆。",
	},
	msgNoteSaved: {
		"Saved as a SecondMe note.",
		"已保存为 SecondMe 笔记。",
	},
	msgNoteSavedMemory: {
		"SecondMe notes are unavailable, so I saved it to your key memory instead.",
		"SecondMe 笔记功能暂不可用，已改为保存到你的关键记忆。",
	},
	msgNoteTooLong: {
		"That's too long to save: %s.",
		"内容太长，无法保存：%s。",
	},
	msgSessionsHeader: {
		"Your recent conversations through this bridge:",
		"你最近通过此桥接进行的对话：",
	},
	msgSessionsNone: {
		"No conversations through this bridge yet.",
		"还没有通过此桥接进行的对话。",
	},
	msgSessionLine: {
		"%s — %s (%d messages)",
		"%s — %s（%d 条消息）",
	},
	msgSessionNoMessage: {
		"(no messages)",
		"（无消息）",
	},
	msgPrivateOnly: {
		"I can only show that privately: try it in a direct message.",
		"这个结果只能私下显示：请在私信中使用。",
	},
	msgUnknownCommand: {
		"Unknown command: try /help.",
		"未知命令：试试 /help。",
	},
	msgHelp: {
		"Talk to your own SecondMe avatar: mention me, send me a direct message, or reply in a thread where we're talking.\n" +
			"• /link: connect your SecondMe account\n" +
			"• /unlink: disconnect it and forget your conversations here\n" +
			"• /new: start a new conversation\n" +
			"• /ask <text>: ask your avatar\n" +
			"• /whoami: your SecondMe profile\n" +
			"• /memory <keyword>: search your key memories\n" +
			"• /note <text>: save a note\n" +
			"• /sessions: your recent conversations\n" +
			"• /help: this list\n" +
			"Message menu: “Save to SecondMe” and “Ask my avatar about this”.",
		"与你自己的 SecondMe 分身对话：提及我、给我发私信，或在我们正在对话的话题中回复。\n" +
			"• /link：绑定你的 SecondMe 账号\n" +
			"• /unlink：解除绑定并清除这里的对话\n" +
			"• /new：开始新的对话\n" +
			"• /ask <内容>：向你的分身提问\n" +
			"• /whoami：你的 SecondMe 资料\n" +
			"• /memory <关键词>：搜索你的关键记忆\n" +
			"• /note <内容>：保存一条笔记\n" +
			"• /sessions：你最近的对话\n" +
			"• /help：显示此列表\n" +
			"消息菜单：“保存到 SecondMe”和“问问我的分身”。",
	},
}

// tr returns the text of key in l, formatted with args. An unknown key
// yields the key itself, so a mistake shows up instead of an empty message.
func tr(l lang, key msgKey, args ...any) string {
	texts, ok := catalog[key]
	if !ok {
		return string(key)
	}
	s := withCommands(texts[l.index()], l.cmd)
	if l.zh && l.names != nil {
		s = withNames(s, *l.names)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

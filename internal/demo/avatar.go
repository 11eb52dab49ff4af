package demo

import (
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// The demo avatar's name and the demo user's SecondMe identity.
const (
	AvatarUserID = "demo-user-1"
	AvatarName   = "Ada (demo avatar)"
)

// deltaDelay is the pause before each streamed delta: slow enough that the
// reply visibly streams through several edits, fast enough for CI.
const deltaDelay = 35 * time.Millisecond

// AvatarReply is the demo avatar's answer to message. It is deterministic:
// the answer is picked by keywords, so `demo --script` can check the final
// text the bot posted.
func AvatarReply(message string) string {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(message), func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	}) {
		words[w] = true
	}
	switch {
	case words["story"] || words["long"]:
		return longStory
	case words["code"] || words["go"]:
		return codeReply
	case words["hello"] || words["hi"] || words["hey"] || words["who"]:
		return "Hi! I'm **Ada**, a demo SecondMe avatar. Everything you see here runs on your machine: " +
			"the real bridge, a fake Discord and a fake SecondMe. Ask me for *some Go code* or *a long story* " +
			"to see a reply streamed through edits and split into several messages."
	default:
		return "You said: “" + message + "”. In a real setup your own SecondMe avatar answers here, " +
			"in your voice, with your memories. Try asking for *a long story* or *some Go code*."
	}
}

const codeReply = "Here is the bridge's idea in a few lines of Go:\n\n" +
	"```go\n" +
	"for delta := range avatar.Stream(ctx, question) {\n" +
	"\ttext += delta\n" +
	"\tif time.Since(lastEdit) > editInterval {\n" +
	"\t\tdiscord.Edit(msg, text) // one edit, not one per token\n" +
	"\t\tlastEdit = time.Now()\n" +
	"\t}\n" +
	"}\n" +
	"discord.Edit(msg, text) // the final text, exactly as streamed\n" +
	"```\n\n" +
	"Edits are paced so that Discord's rate limits are never hit."

// longStory is over Discord's 2,000-character limit, so the bridge splits
// it into two messages at a paragraph boundary.
var longStory = strings.Join([]string{
	"Once upon a time, a small bot lived between two worlds: a busy Discord server and a quiet place where avatars keep their memories.",
	"Every morning people mentioned the bot with questions, and every time it carried the question across, waited for the avatar to think, and brought the answer back word by word, editing its message as the words arrived so nobody stared at an empty screen.",
	"One day a question came that needed a very long answer. The avatar talked and talked. The bot knew that a Discord message holds at most two thousand characters, so when the text grew too long it did not cut a sentence in half: it waited for the end of a paragraph, finished the first message there, and opened a second one right below it.",
	"Nothing was lost and nothing was repeated. Code blocks were never broken, mentions never pinged anybody, and when the avatar stopped, the last edit held exactly what the avatar had said.",
	"The people in the channel hardly noticed any of this. They saw their answer appear, grow, and settle — which is just how the bot liked it.",
	"Later that week, the bot was moved to a bigger server with thousands of members and two replicas behind a load balancer. It kept one ordered queue per conversation, so replies never interleaved, and a lease in the store made sure only one replica wrote each reply.",
	"When a replica was restarted in the middle of a reply, the other one noticed the stale lease, finished the message with a short note that the reply was interrupted, and the user simply asked again.",
	"Some users wrote in Chinese and some in English, so the bot answered its own notices in the language of each user's Discord client, and named the command of the platform they were on: /link on Discord, /secondme link on Slack.",
	"On quiet nights it swept the store for links nobody had finished, sessions nobody would continue, and replies that had lost their writer, and closed each one properly, so that every message ended in a final state.",
	"And that is the end of the story — ask for some Go code next, or type anything else.",
}, "\n\n")

// avatarScript is the fake SecondMe's stream handler: it streams the
// avatar's reply in small deltas. Long replies get bigger deltas so that
// they take a few seconds, not half a minute.
func avatarScript(call secondmetest.ChatCall) secondmetest.Script {
	reply := AvatarReply(call.Message)
	words := strings.SplitAfter(reply, " ")
	per := 1 + len(words)/60
	var deltas []string
	for i := 0; i < len(words); i += per {
		deltas = append(deltas, strings.Join(words[i:min(i+per, len(words))], ""))
	}
	return secondmetest.Script{Deltas: deltas, Delay: deltaDelay}
}

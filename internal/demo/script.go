package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// Conversation is what `demo --script` says, in order: a greeting, a code
// block, and a story long enough to be split into two messages.
var Conversation = []string{
	"hi, who are you?",
	"show me some Go code",
	"tell me a long story",
}

// replyTimeout bounds the wait for one complete reply.
const replyTimeout = 60 * time.Second

// Play says each line of Conversation in the channel (as a mention, through
// the fake gateway to the bridge's Discord adapter) and prints to w how the
// reply arrives: the typing indicator, the create and every edit, then the
// final messages. It returns an error if a reply does not end, within
// replyTimeout, with exactly the avatar's text (split parts joined).
func (e *Env) Play(ctx context.Context, w io.Writer) error {
	for i, line := range Conversation {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := e.playOne(ctx, w, line); err != nil {
			return err
		}
	}
	return nil
}

// playOne sends one line and follows the reply until it is final.
func (e *Env) playOne(ctx context.Context, w io.Writer, line string) error {
	ctx, cancel := context.WithTimeout(ctx, replyTimeout)
	defer cancel()
	want := AvatarReply(line)
	fmt.Fprintf(w, "%s › @%s %s\n", User.GlobalName, discordtest.DefaultBotName, line)
	trigger, err := e.DC.Mention(GuildID, ChannelID, User, line)
	if err != nil {
		return fmt.Errorf("play %q: %w", line, err)
	}
	typingPath := "/channels/" + ChannelID + "/typing"
	typingBefore := len(e.DC.CallsTo("POST", typingPath))
	typed := false
	seen := map[string]int{} // message id → history entries printed
	for {
		changed := e.DC.Changed()
		if !typed && len(e.DC.CallsTo("POST", typingPath)) > typingBefore {
			typed = true
			fmt.Fprintf(w, "  … %s is typing\n", discordtest.DefaultBotName)
		}
		replies := e.DC.RepliesTo(trigger.ID)
		for n, m := range replies {
			for j := seen[m.ID]; j < len(m.History); j++ {
				verb := "create"
				if j > 0 {
					verb = fmt.Sprintf("edit %d", j)
				}
				fmt.Fprintf(w, "  [message %d %-7s] %s\n", n+1, verb, preview(m.History[j], 72))
			}
			seen[m.ID] = len(m.History)
		}
		if got := joined(replies); got == normalize(want) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("play %q: the reply did not end with the avatar's text within %s (got %q)", line, replyTimeout, joined(replies))
		case <-changed:
		}
	}
	replies := e.DC.RepliesTo(trigger.ID)
	for n, m := range replies {
		fmt.Fprintf(w, "%s (message %d of %d, %d characters, %d edits):\n%s\n",
			discordtest.DefaultBotName, n+1, len(replies), utf8.RuneCountInString(m.Content), m.Edits, indent(visible(m.Content)))
	}
	return nil
}

// visible is the text a Discord user reads: without the zero-width spaces
// the bridge inserts to neutralize mentions.
func visible(s string) string { return strings.ReplaceAll(s, "\u200b", "") }

// normalize collapses whitespace, so that a reply split at a paragraph
// boundary compares equal to the text it came from.
func normalize(s string) string { return strings.Join(strings.Fields(visible(s)), " ") }

func joined(ms []discordtest.Message) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		parts = append(parts, m.Content)
	}
	return normalize(strings.Join(parts, "\n"))
}

// preview is the end of s on one line, at most n runes.
func preview(s string, n int) string {
	s = strings.Join(strings.Fields(visible(s)), " ")
	if r := []rune(s); len(r) > n {
		return "…" + string(r[len(r)-n+1:])
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

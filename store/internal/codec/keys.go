package codec

import (
	"net/url"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Part escapes one key part.
func Part(s string) string { return url.QueryEscape(s) }

// User encodes k as "platform:workspace:user".
func User(k store.UserKey) string {
	return join(Part(k.Platform), Part(k.Workspace), Part(k.User))
}

// ConversationSuffix encodes the part of k after its user:
// "channel:thread".
func ConversationSuffix(k store.ConversationKey) string {
	return join(Part(k.Channel), Part(k.Thread))
}

// Conversation encodes k as "platform:workspace:user:channel:thread". The
// encoding of k.UserKey() followed by ':' is a prefix of it.
func Conversation(k store.ConversationKey) string {
	return join(User(k.UserKey()), ConversationSuffix(k))
}

func join(parts ...string) string { return strings.Join(parts, ":") }

// Package keys encodes the engine's store keys as single strings (map
// keys, lock keys, the input of stop ids): the parts joined by ':', with
// '%' and ':' escaped inside parts, so that distinct keys never collide.
// It owns nothing else.
package keys

import (
	"strings"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Conv encodes a conversation key.
func Conv(k store.ConversationKey) string {
	return join(k.Platform, k.Workspace, k.Channel, k.Thread, k.User)
}

// User encodes a user key like Conv.
func User(k store.UserKey) string {
	return join(k.Platform, k.Workspace, k.User)
}

var escaper = strings.NewReplacer("%", "%25", ":", "%3A")

func join(parts ...string) string {
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(escaper.Replace(p))
	}
	return sb.String()
}

package stops

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// tagLen is the length of the owner tag of a stop id, in hex digits.
const tagLen = 16

// convPrefix starts a conversation's stop id; a conversation id is
// convPrefix and convHashLen hex digits, then optionally "." and a unique
// suffix (a request in the store).
const (
	convPrefix  = "c."
	convHashLen = 32
)

// ID returns the Stop button id of the reply replyID answering the user
// whose key is user: replyID, '.', then a tag hashing the reply id with
// the user. The id carries no secret (the reply id is random, the tag is
// a public hash): an id forged for another user never names a running
// reply, and a click passes Owns only for the user the tag names. "" when
// the result would not be a valid StopControl.ReplyID.
func ID(replyID, user string) string {
	if strings.Contains(replyID, ".") {
		return "" // the tag could not be told from the id
	}
	id := replyID + "." + tag(replyID, user)
	if !platforms.ValidStopReplyID(id) {
		return ""
	}
	return id
}

func tag(replyID, user string) string {
	sum := sha256.Sum256([]byte("stop\x00" + replyID + "\x00" + user))
	return hex.EncodeToString(sum[:])[:tagLen]
}

// Owns reports whether the stop id was made for user (ID).
func Owns(id, user string) bool {
	replyID, t, ok := strings.Cut(id, ".")
	return ok && platforms.ValidStopReplyID(id) && t == tag(replyID, user)
}

// ConvID is the stop id of the reply running in the conversation whose
// key is conv (a native stop): "c." and a hash of the key.
func ConvID(conv string) string {
	sum := sha256.Sum256([]byte("conv\x00" + conv))
	return convPrefix + hex.EncodeToString(sum[:convHashLen/2])
}

package bridge

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func conversationKeyOf(platform, workspace, channel, thread, user string) store.ConversationKey {
	return store.ConversationKey{Platform: platform, Workspace: workspace, Channel: channel, Thread: thread, User: user}
}

func TestKeyString(t *testing.T) {
	t.Parallel()
	a := keys.Conv(conversationKeyOf("slack", "T1", "C:1", "", "U1"))
	b := keys.Conv(conversationKeyOf("slack", "T1", "C", "1", "U1"))
	if a == b {
		t.Fatalf("distinct keys collide: %q", a)
	}
	if a != "slack:T1:C%3A1::U1" {
		t.Errorf("keys.Conv = %q", a)
	}
}

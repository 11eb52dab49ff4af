package bridge

import (
	"errors"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestNoteUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&secondme.APIError{HTTPStatus: 404}, true},
		{&secondme.APIError{HTTPStatus: 410}, true},
		{&secondme.APIError{HTTPStatus: 503, SubCode: "note.service.unavailable"}, true},
		{&secondme.APIError{HTTPStatus: 500, Message: "temporarily unavailable"}, true},
		{&secondme.APIError{HTTPStatus: 500, SubCode: "internal.error"}, false},
		{&secondme.APIError{HTTPStatus: 403, SubCode: "auth.scope.missing"}, false},
		{errors.New("network"), false},
	} {
		if got := noteUnavailable(tc.err); got != tc.want {
			t.Errorf("noteUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func conversationKeyOf(platform, workspace, channel, thread, user string) store.ConversationKey {
	return store.ConversationKey{Platform: platform, Workspace: workspace, Channel: channel, Thread: thread, User: user}
}

func TestKeyString(t *testing.T) {
	t.Parallel()
	a := keyString(conversationKeyOf("slack", "T1", "C:1", "", "U1"))
	b := keyString(conversationKeyOf("slack", "T1", "C", "1", "U1"))
	if a == b {
		t.Fatalf("distinct keys collide: %q", a)
	}
	if a != "slack:T1:C%3A1::U1" {
		t.Errorf("keyString = %q", a)
	}
}

package bridge

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		kind string
		en   string
	}{
		{"not linked", fmt.Errorf("get token: %w", linking.ErrNotLinked), kindNotLinked,
			"You haven't linked your SecondMe account yet: run /link to connect it."},
		{"broken", linking.ErrLinkBroken, kindLinkBroken, "Your SecondMe link has expired: run /link again."},
		{"revoked upstream", &secondme.APIError{HTTPStatus: 401, SubCode: "oauth2.authorization.revoked"}, kindLinkBroken,
			"Your SecondMe link has expired: run /link again."},
		{"scope", &secondme.APIError{HTTPStatus: 403, SubCode: "oauth2.scope.insufficient", Message: "missing scope: chat.write"},
			kindMissingScope, "Your SecondMe link lacks chat.write: run /link again."},
		{"scope unnamed", &secondme.APIError{HTTPStatus: 403, SubCode: "auth.scope.missing"}, kindMissingScope,
			"Your SecondMe link lacks a permission this needs: run /link again."},
		{"operator", &secondme.APIError{HTTPStatus: 403, SubCode: "oauth2.application.suspended"}, kindOperator,
			"The bridge is misconfigured, so your avatar can't answer right now: please tell the operator."},
		{"busy", &secondme.APIError{HTTPStatus: 429, RetryAfter: 2500 * time.Millisecond}, kindRateLimited,
			"Your avatar is busy right now: try again in 3 s."},
		{"busy no wait", &secondme.APIError{HTTPStatus: 429}, kindRateLimited,
			"Your avatar is busy right now: try again in a moment."},
		{"server", &secondme.APIError{HTTPStatus: 500, SubCode: "secondme.stream.error"}, kindUpstream,
			"Your avatar couldn't answer just now: please ask again in a minute."},
		{"idle", fmt.Errorf("read: %w", secondme.ErrIdleTimeout), kindTimeout,
			"Your avatar took too long to answer: please ask again."},
		{"deadline", context.DeadlineExceeded, kindTimeout, "Your avatar took too long to answer: please ask again."},
		{"other", errors.New("boom"), kindInternal, "Something went wrong on the bridge: please try again."},
	} {
		ue := classify(tc.err)
		if ue.kind != tc.kind || ue.text(langEN) != tc.en {
			t.Errorf("%s: classify = %s %q; want %s %q", tc.name, ue.kind, ue.text(langEN), tc.kind, tc.en)
		}
		if !errors.Is(ue, tc.err) {
			t.Errorf("%s: the user error does not wrap the cause", tc.name)
		}
	}
	if got := classify(&secondme.APIError{HTTPStatus: 403, SubCode: "oauth2.scope.insufficient", Message: "missing scope: chat.write"}).text(langZH); got != "你的 SecondMe 账号绑定缺少 chat.write 权限：请重新运行 /link。" {
		t.Errorf("zh scope text = %q", got)
	}
}

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

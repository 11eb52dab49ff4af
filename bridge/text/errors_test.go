package text

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/secondme"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		kind string
		en   string
	}{
		{"not linked", fmt.Errorf("get token: %w", linking.ErrNotLinked), KindNotLinked,
			"You haven't linked your SecondMe account yet: run /link to connect it."},
		{"broken", linking.ErrLinkBroken, KindLinkBroken, "Your SecondMe link has expired: run /link again."},
		{"revoked upstream", &secondme.APIError{HTTPStatus: 401, SubCode: "oauth2.authorization.revoked"}, KindLinkBroken,
			"Your SecondMe link has expired: run /link again."},
		{"scope", &secondme.APIError{HTTPStatus: 403, SubCode: "oauth2.scope.insufficient", Message: "missing scope: chat.write"},
			KindMissingScope, "Your SecondMe link lacks chat.write: run /link again."},
		{"scope unnamed", &secondme.APIError{HTTPStatus: 403, SubCode: "auth.scope.missing"}, KindMissingScope,
			"Your SecondMe link lacks a permission this needs: run /link again."},
		{"operator", &secondme.APIError{HTTPStatus: 403, SubCode: "oauth2.application.suspended"}, KindOperator,
			"The bridge is misconfigured, so your avatar can't answer right now: please tell the operator."},
		{"busy", &secondme.APIError{HTTPStatus: 429, RetryAfter: 2500 * time.Millisecond}, KindRateLimited,
			"Your avatar is busy right now: try again in 3 s."},
		{"busy no wait", &secondme.APIError{HTTPStatus: 429}, KindRateLimited,
			"Your avatar is busy right now: try again in a moment."},
		{"server", &secondme.APIError{HTTPStatus: 500, SubCode: "secondme.stream.error"}, KindUpstream,
			"Your avatar couldn't answer just now: please ask again in a minute."},
		{"idle", fmt.Errorf("read: %w", secondme.ErrIdleTimeout), KindTimeout,
			"Your avatar took too long to answer: please ask again."},
		{"deadline", context.DeadlineExceeded, KindTimeout, "Your avatar took too long to answer: please ask again."},
		{"other", errors.New("boom"), KindInternal, "Something went wrong on the bridge: please try again."},
	} {
		ue := Classify(tc.err)
		if ue.Kind != tc.kind || ue.Text(EN) != tc.en {
			t.Errorf("%s: classify = %s %q; want %s %q", tc.name, ue.Kind, ue.Text(EN), tc.kind, tc.en)
		}
		if !errors.Is(ue, tc.err) {
			t.Errorf("%s: the user error does not wrap the cause", tc.name)
		}
	}
	if got := Classify(&secondme.APIError{HTTPStatus: 403, SubCode: "oauth2.scope.insufficient", Message: "missing scope: chat.write"}).Text(ZH); got != "你的 SecondMe 账号绑定缺少 chat.write 权限：请重新运行 /link。" {
		t.Errorf("zh scope text = %q", got)
	}
}

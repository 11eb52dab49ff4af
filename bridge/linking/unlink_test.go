package linking

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func TestUnlinkLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		ctx := t.Context()
		u, other := user("unlink-user-q7"), user("bystander-z3")
		h.linkAs(u, "21")
		h.linkAs(other, "22")
		h.fake.Advance(2 * time.Hour) // refresh once, so a lock has been used too
		if _, err := h.linker.Token(ctx, u); err != nil {
			t.Fatal(err)
		}
		convs := []store.ConversationKey{
			{Platform: "discord", Channel: "c1", User: u.User},
			{Platform: "discord", Channel: "c2", Thread: "t1", User: u.User},
		}
		otherConv := store.ConversationKey{Platform: "discord", Channel: "c1", User: other.User}
		for i, k := range append(convs, otherConv) {
			c := store.Conversation{Key: k, SessionID: "labs_sess_" + string(rune('a'+i)), LastActive: time.Now()}
			if err := h.store.Conversations().PutConversation(ctx, c, time.Hour); err != nil {
				t.Fatal(err)
			}
		}

		removed, err := h.linker.Unlink(ctx, u)
		if err != nil {
			t.Fatalf("Unlink: %v", err)
		}
		if removed.Key != u || removed.SecondMeUserID != "21" {
			t.Errorf("removed link = %+v", removed)
		}
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("raw GetLink after unlink: %v, want ErrNotFound", err)
		}
		for _, k := range convs {
			if _, err := h.store.Conversations().GetConversation(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("conversation %+v survived unlink: %v", k, err)
			}
		}
		if _, err := h.store.Conversations().GetConversation(ctx, otherConv); err != nil {
			t.Errorf("another user's conversation was removed: %v", err)
		}
		if _, err := h.rawLink(other); err != nil {
			t.Errorf("another user's link was removed: %v", err)
		}
		if _, err := h.linker.Token(ctx, u); !errors.Is(err, ErrNotLinked) {
			t.Errorf("Token after unlink = %v, want ErrNotLinked", err)
		}
		if _, err := h.linker.Unlink(ctx, u); !errors.Is(err, ErrNotLinked) {
			t.Errorf("second Unlink = %v, want ErrNotLinked", err)
		}

		if h.data.Kind == storetest.Redis {
			// Only bookkeeping that holds no user data may remain: the
			// link-rate budget and the lock's fencing counter.
			keys := h.data.Keys(t)
			if len(keys) == 0 {
				t.Fatal("no redis keys under the test prefix: the scan checks nothing")
			}
			for _, k := range keys {
				rest := strings.TrimPrefix(k, h.data.Prefix)
				decoded, _ := url.QueryUnescape(rest)
				if !strings.Contains(decoded, u.User) {
					continue
				}
				if strings.HasPrefix(rest, "budget:") || strings.HasPrefix(rest, "fence:") {
					continue
				}
				t.Errorf("redis key %q of the unlinked user remains", rest)
			}
		}
	})
}

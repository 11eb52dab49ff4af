package linking

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestRefreshUpdatesTheCachedProfile(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.SetAccessTTL(10 * time.Minute)
		h.fake.AddUser(secondmetest.User{ID: "9", Name: "Ada", Avatar: "https://cdn.example.com/ada-1.png"})
		u := user("ada")
		_, n := h.linkAs(u, "9")
		if p := ProfileOf(n.link); p.Name != "Ada" || p.AvatarURL != "https://cdn.example.com/ada-1.png" {
			t.Fatalf("profile at link = %+v", p)
		}

		// The user renames herself and changes her picture; the next refresh
		// brings both.
		h.fake.AddUser(secondmetest.User{ID: "9", Name: "Ada L.", Avatar: "https://cdn.example.com/ada-2.png"})
		h.fake.Advance(6 * time.Minute)
		got, err := h.linker.Token(t.Context(), u)
		if err != nil || h.fake.RefreshCount() != 1 {
			t.Fatalf("Token: %v, refreshes %d", err, h.fake.RefreshCount())
		}
		if p := ProfileOf(got); p.Name != "Ada L." || p.AvatarURL != "https://cdn.example.com/ada-2.png" {
			t.Errorf("profile after refresh = %+v", p)
		}
		raw, err := h.rawLink(u)
		if err != nil || raw.Name != "Ada L." || raw.AvatarURL != "https://cdn.example.com/ada-2.png" {
			t.Errorf("stored link = %+v, %v", raw, err)
		}

		// SecondMe failing on user/info: the token is still refreshed and
		// the cached profile kept.
		h.fake.QueueResponse(secondmetest.PathUserInfo, secondmetest.ErrorResponse(500, "internal.error", "boom"))
		h.fake.Advance(6 * time.Minute)
		got, err = h.linker.Token(t.Context(), u)
		if err != nil || h.fake.RefreshCount() != 2 {
			t.Fatalf("Token: %v, refreshes %d", err, h.fake.RefreshCount())
		}
		if p := ProfileOf(got); p.Name != "Ada L." || p.AvatarURL != "https://cdn.example.com/ada-2.png" {
			t.Errorf("profile after a failed user/info = %+v", p)
		}
	})
}

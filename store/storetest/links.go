package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func sampleLink(k store.UserKey, tag string) store.Link {
	return store.Link{
		Key:             k,
		SecondMeUserID:  "sm-" + tag,
		AppScopedUserID: "app-" + tag,
		Name:            "Name " + tag,
		AvatarURL:       "https://example.com/" + tag + ".png",
		Token: store.Token{
			AccessToken:  "access-" + tag,
			RefreshToken: "refresh-" + tag,
			TokenType:    "Bearer",
			Expiry:       base.Add(2 * time.Hour),
			Scopes:       []string{"user.info", "chat"},
		},
		CreatedAt: base,
		UpdatedAt: base.Add(time.Minute),
	}
}

func testLinkCRUD(t *testing.T, s store.Store) {
	ctx, links := t.Context(), s.Links()
	k := store.UserKey{Platform: "discord", User: "100"}
	_, err := links.GetLink(ctx, k)
	mustBe(t, err, store.ErrNotFound, "get missing link")

	l := sampleLink(k, "a")
	mustOK(t, links.PutLink(ctx, l), "put link")
	got, err := links.GetLink(ctx, k)
	mustOK(t, err, "get link")
	mustEqual(t, l, got, "get after put")

	l2 := sampleLink(k, "b")
	l2.Broken = true
	l2.Token.Scopes = nil
	l2.Token.RefreshToken = ""
	mustOK(t, links.PutLink(ctx, l2), "replace link")
	got, err = links.GetLink(ctx, k)
	mustOK(t, err, "get replaced link")
	mustEqual(t, l2, got, "get after replace")

	mustOK(t, links.DeleteLink(ctx, k), "delete link")
	_, err = links.GetLink(ctx, k)
	mustBe(t, err, store.ErrNotFound, "get deleted link")
	mustBe(t, links.DeleteLink(ctx, k), store.ErrNotFound, "delete missing link")
}

// testLinkKeysDistinct checks that key parts holding separators or brace
// characters do not make distinct users collide.
func testLinkKeysDistinct(t *testing.T, s store.Store) {
	ctx, links := t.Context(), s.Links()
	keys := []store.UserKey{
		{Platform: "slack", Workspace: "T1", User: "U1"},
		{Platform: "slack", Workspace: "T1:U1", User: ""},
		{Platform: "slack", Workspace: "T1", User: "U1:x"},
		{Platform: "slack", Workspace: "T1", User: "U1}{"},
		{Platform: "discord", Workspace: "", User: "U1"},
		{Platform: "discord", Workspace: "", User: "ユーザー 1"},
	}
	for i, k := range keys {
		mustOK(t, links.PutLink(ctx, sampleLink(k, fmt.Sprint(i))), fmt.Sprintf("put link %d", i))
	}
	for i, k := range keys {
		got, err := links.GetLink(ctx, k)
		mustOK(t, err, fmt.Sprintf("get link %d", i))
		mustEqual(t, sampleLink(k, fmt.Sprint(i)), got, fmt.Sprintf("link %d", i))
	}
	_, err := links.GetLink(ctx, store.UserKey{Platform: "slack", Workspace: "T2", User: "U1"})
	mustBe(t, err, store.ErrNotFound, "same user id in another workspace")
}

func testUpdateLink(t *testing.T, s store.Store) {
	ctx, links := t.Context(), s.Links()
	k := store.UserKey{Platform: "slack", Workspace: "T1", User: "U1"}
	_, err := links.UpdateLink(ctx, k, func(l store.Link) (store.Link, error) {
		t.Error("fn called for a missing link")
		return l, nil
	})
	mustBe(t, err, store.ErrNotFound, "update missing link")

	orig := sampleLink(k, "a")
	mustOK(t, links.PutLink(ctx, orig), "put link")

	errBoom := errors.New("boom")
	_, err = links.UpdateLink(ctx, k, func(l store.Link) (store.Link, error) {
		l.Name = "must not be stored"
		return l, errBoom
	})
	mustBe(t, err, errBoom, "update with failing fn")
	got, err := links.GetLink(ctx, k)
	mustOK(t, err, "get after failed update")
	mustEqual(t, orig, got, "link after failed update")

	updated, err := links.UpdateLink(ctx, k, func(l store.Link) (store.Link, error) {
		mustEqual(t, orig, l, "fn argument")
		l.Token.AccessToken = "access-new"
		l.Token.Expiry = base.Add(3 * time.Hour)
		l.UpdatedAt = base.Add(time.Hour)
		return l, nil
	})
	mustOK(t, err, "update link")
	want := orig
	want.Token.AccessToken = "access-new"
	want.Token.Expiry = base.Add(3 * time.Hour)
	want.UpdatedAt = base.Add(time.Hour)
	mustEqual(t, want, updated, "UpdateLink result")
	got, err = links.GetLink(ctx, k)
	mustOK(t, err, "get after update")
	mustEqual(t, want, got, "stored after update")
}

// testUpdateLinkConcurrent has 50 goroutines each append one scope; an
// update lost to a race would be missing at the end.
func testUpdateLinkConcurrent(t *testing.T, s store.Store) {
	ctx, links := t.Context(), s.Links()
	k := store.UserKey{Platform: "discord", User: "7"}
	l := sampleLink(k, "c")
	l.Token.Scopes = nil
	mustOK(t, links.PutLink(ctx, l), "put link")
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := links.UpdateLink(ctx, k, func(l store.Link) (store.Link, error) {
				l.Token.Scopes = append(slices.Clone(l.Token.Scopes), fmt.Sprint(i))
				return l, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustOK(t, err, "concurrent update")
	}
	got, err := links.GetLink(ctx, k)
	mustOK(t, err, "get link")
	distinct := len(slices.Compact(slices.Sorted(slices.Values(got.Token.Scopes))))
	if distinct != n || len(got.Token.Scopes) != n {
		t.Fatalf("after %d concurrent updates: %d scopes (%d distinct), want %d", n, len(got.Token.Scopes), distinct, n)
	}
}

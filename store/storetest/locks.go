package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func acquire(t *testing.T, s store.Store, key, owner string, ttl time.Duration) store.Lease {
	t.Helper()
	before := time.Now()
	l, err := s.Locks().Acquire(t.Context(), key, owner, ttl)
	mustOK(t, err, "acquire "+key+" by "+owner)
	if l.Key != key || l.Owner != owner || l.Fence == 0 {
		t.Fatalf("Acquire(%q, %q) = %+v", key, owner, l)
	}
	if l.Expiry.Before(before.Add(ttl-time.Second)) || l.Expiry.After(time.Now().Add(ttl+time.Second)) {
		t.Fatalf("lease expiry %v is not about now+%v", l.Expiry, ttl)
	}
	return l
}

func higher(t *testing.T, newer, older store.Lease) {
	t.Helper()
	if newer.Fence <= older.Fence {
		t.Fatalf("fence %d after fence %d: fences must increase", newer.Fence, older.Fence)
	}
}

func testLockBasics(t *testing.T, s store.Store) {
	ctx, locks := t.Context(), s.Locks()
	a1 := acquire(t, s, "conv:1", "a", time.Minute)
	_, err := locks.Acquire(ctx, "conv:1", "b", time.Minute)
	mustBe(t, err, store.ErrConflict, "acquire held lock")
	mustOK(t, locks.Validate(ctx, a1), "validate current lease")
	_, err = locks.Acquire(ctx, "conv:1", "a", 0)
	mustErr(t, err, "acquire with ttl 0")

	other := acquire(t, s, "conv:2", "b", time.Minute) // keys are independent
	mustOK(t, locks.Validate(ctx, other), "validate other key")

	a2 := acquire(t, s, "conv:1", "a", time.Minute) // own lease: new fence
	higher(t, a2, a1)
	mustBe(t, locks.Validate(ctx, a1), store.ErrStaleFence, "validate superseded lease")
	mustBe(t, locks.Release(ctx, a1), store.ErrStaleFence, "release superseded lease")
	_, err = locks.Extend(ctx, a1, time.Minute)
	mustBe(t, err, store.ErrStaleFence, "extend superseded lease")
	mustOK(t, locks.Validate(ctx, a2), "current lease survives stale release")

	forged := a2
	forged.Owner = "b"
	mustBe(t, locks.Validate(ctx, forged), store.ErrStaleFence, "validate with another owner")
	mustBe(t, locks.Release(ctx, forged), store.ErrStaleFence, "release with another owner")
	mustBe(t, locks.Validate(ctx, store.Lease{}), store.ErrStaleFence, "validate zero lease")

	mustOK(t, locks.Release(ctx, a2), "release")
	mustBe(t, locks.Validate(ctx, a2), store.ErrStaleFence, "validate released lease")
	mustBe(t, locks.Release(ctx, a2), store.ErrStaleFence, "release twice")
	_, err = locks.Extend(ctx, a2, time.Minute)
	mustBe(t, err, store.ErrStaleFence, "extend released lease")

	b := acquire(t, s, "conv:1", "b", time.Minute) // free after release
	higher(t, b, a2)
	mustOK(t, locks.Release(ctx, b), "release b")
	a3 := acquire(t, s, "conv:1", "a", time.Minute)
	higher(t, a3, b)
}

func testLockExpiry(t *testing.T, s store.Store) {
	ctx, locks := t.Context(), s.Locks()
	a := acquire(t, s, "k", "a", 80*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	mustBe(t, locks.Validate(ctx, a), store.ErrStaleFence, "validate expired lease")
	_, err := locks.Extend(ctx, a, time.Minute)
	mustBe(t, err, store.ErrStaleFence, "extend expired lease")

	b := acquire(t, s, "k", "b", time.Minute)
	higher(t, b, a)
	mustBe(t, locks.Release(ctx, a), store.ErrStaleFence, "release by stale holder")
	_, err = locks.Extend(ctx, a, time.Minute)
	mustBe(t, err, store.ErrStaleFence, "extend by stale holder")
	mustOK(t, locks.Validate(ctx, b), "new holder survives the stale holder")
	_, err = locks.Acquire(ctx, "k", "a", time.Minute)
	mustBe(t, err, store.ErrConflict, "stale holder re-acquires")
}

func testLockExtend(t *testing.T, s store.Store) {
	ctx, locks := t.Context(), s.Locks()
	start := time.Now()
	a := acquire(t, s, "k", "a", 500*time.Millisecond)
	ext, err := locks.Extend(ctx, a, time.Minute)
	if errors.Is(err, store.ErrStaleFence) {
		skipIfSlow(t, start, 500*time.Millisecond, "extend within the ttl")
	}
	mustOK(t, err, "extend")
	if ext.Fence != a.Fence || ext.Owner != a.Owner || ext.Key != a.Key {
		t.Fatalf("Extend(%+v) = %+v: key, owner and fence must not change", a, ext)
	}
	if !ext.Expiry.After(a.Expiry) {
		t.Fatalf("extended expiry %v not after %v", ext.Expiry, a.Expiry)
	}
	time.Sleep(600 * time.Millisecond) // past the first expiry
	mustOK(t, locks.Validate(ctx, ext), "validate extended lease")
	mustOK(t, locks.Validate(ctx, a), "validate: the fence, not the expiry field, identifies a lease")
	_, err = locks.Acquire(ctx, "k", "b", time.Minute)
	mustBe(t, err, store.ErrConflict, "acquire extended lock")
	_, err = locks.Extend(ctx, ext, 0)
	mustErr(t, err, "extend with ttl 0")
}

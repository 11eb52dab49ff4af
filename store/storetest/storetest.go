package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/store"
)

type subTest struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// RunTests runs the conformance suite: one parallel subtest per behaviour,
// each against a fresh store from newStore.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	runSubTests(t, newStore, []subTest{
		{"Ping", testPing},
		{"Close", testClose},
		{"LinkCRUD", testLinkCRUD},
		{"LinkKeysDistinct", testLinkKeysDistinct},
		{"UpdateLink", testUpdateLink},
		{"UpdateLinkConcurrent", testUpdateLinkConcurrent},
		{"ConversationCRUD", testConversationCRUD},
		{"ConversationTTL", testConversationTTL},
		{"DeleteUserConversations", testDeleteUserConversations},
		{"States", testStates},
		{"StateTTL", testStateTTL},
		{"Dedupe", testDedupe},
		{"LockBasics", testLockBasics},
		{"LockExpiry", testLockExpiry},
		{"LockExtend", testLockExtend},
		{"Replies", testReplies},
		{"BudgetBurst", testBudgetBurst},
		{"BudgetRefill", testBudgetRefill},
		{"BudgetInvalid", testBudgetInvalid},
		{"ReserveBurst", testReserveBurst},
		{"ReserveAllOrNone", testReserveAllOrNone},
		{"ReserveAhead", testReserveAhead},
		{"ReserveSeparateAndInvalid", testReserveSeparateAndInvalid},
		{"ReserveEachOrder", testReserveEachOrder},
		{"ReserveEachIndependent", testReserveEachIndependent},
		{"ReserveEachInvalid", testReserveEachInvalid},
		{"ReserveEachConcurrent", testReserveEachConcurrent},
		{"ReserveEachWithinSeries", testReserveEachWithinSeries},
		{"ReserveEachWithinOwnShort", testReserveEachWithinOwnShort},
		{"ReserveEachWithinOutOfOrder", testReserveEachWithinOutOfOrder},
		{"ReserveEachWithinExact", testReserveEachWithinExact},
		{"ReserveEachWithinInvalid", testReserveEachWithinInvalid},
		{"ReserveEachClock", testReserveEachClock},
		{"LeaseBatch", testLeaseBatch},
		{"LeaseReturn", testLeaseReturn},
		{"LeaseConcurrent", testLeaseConcurrent},
		{"LeaseInvalid", testLeaseInvalid},
		{"TurnsAdmitNew", testTurnsAdmitNew},
		{"TurnsAdmitDuplicate", testTurnsAdmitDuplicate},
		{"TurnsAdmitPartialDuplicate", testTurnsAdmitPartial},
		{"TurnsAdmitRateLimited", testTurnsAdmitRateLimited},
		{"TurnsBegin", testTurnsBegin},
		{"TurnsBeginExpiredConversation", testTurnsBeginExpiredConversation},
		{"TurnsBeginConflict", testTurnsBeginConflict},
		{"TurnsBeginFences", testTurnsBeginFences},
		{"TurnsFinish", testTurnsFinish},
		{"TurnsFinishStale", testTurnsFinishStale},
		{"TurnsFinishPartial", testTurnsFinishPartial},
		{"Installs", testInstalls},
		{"Liveness", testLiveness},
		{"LockBreak", testLockBreak},
		{"InboxEnter", testInboxEnter},
		{"InboxFinish", testInboxFinish},
		{"InboxAdopt", testInboxAdopt},
		{"Cancels", testCancels},
		{"CancelsExpiry", testCancelsExpiry},
		{"CancelsHostile", testCancelsHostile},
		{"CancelsConcurrent", testCancelsConcurrent},
		{"CancelsWatch", testCancelsWatch},
	})
}

func runSubTests(t *testing.T, newStore func(t *testing.T) store.Store, tests []subTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

// mustBe fails the test unless errors.Is(err, want).
func mustBe(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// mustOK fails the test on a non-nil error.
func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustErr fails the test on a nil error (bad input must be refused).
func mustErr(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: nil error, want an error", what)
	}
}

// skipIfSlow skips the test when d or more has passed since start. Call it
// just before failing an assertion that holds only if the test got there
// within d (say, that a 250ms TTL has not passed yet): on an overloaded
// machine such a failure says nothing about the store.
func skipIfSlow(t *testing.T, start time.Time, d time.Duration, what string) {
	t.Helper()
	if el := time.Since(start); el >= d {
		t.Skipf("%s: %v passed, the check needs under %v; machine too slow to judge", what, el.Round(time.Millisecond), d)
	}
}

// timeEqual compares instants, ignoring location and monotonic readings
// (which do not survive encoding).
var timeEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func mustEqual(t *testing.T, want, got any, what string) {
	t.Helper()
	if diff := cmp.Diff(want, got, timeEqual); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

// base is a fixed, sub-second instant, so encodings must keep nanoseconds.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

func testPing(t *testing.T, s store.Store) {
	mustOK(t, s.Ping(t.Context()), "ping")
}

func testClose(t *testing.T, s store.Store) {
	ctx := t.Context()
	user := store.UserKey{Platform: "discord", User: "1"}
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "1"}
	mustOK(t, s.Close(), "close")
	calls := map[string]error{
		"Ping":       s.Ping(ctx),
		"Close":      s.Close(),
		"GetLink":    second(s.Links().GetLink(ctx, user)),
		"PutLink":    s.Links().PutLink(ctx, store.Link{Key: user}),
		"DeleteLink": s.Links().DeleteLink(ctx, user),
		"UpdateLink": second(s.Links().UpdateLink(ctx, user, func(l store.Link) (store.Link, error) { return l, nil })),
		"GetConv":    second(s.Conversations().GetConversation(ctx, conv)),
		"PutConv":    s.Conversations().PutConversation(ctx, store.Conversation{Key: conv}, time.Minute),
		"DelConv":    s.Conversations().DeleteConversation(ctx, conv),
		"DelConvs":   second(s.Conversations().DeleteUserConversations(ctx, user)),
		"PutState":   s.States().PutState(ctx, "st", store.PendingLink{}, time.Minute),
		"Consume":    second(s.States().ConsumeState(ctx, "st")),
		"GetState":   second(s.States().GetState(ctx, "st")),
		"Claim":      second(s.Dedupe().Claim(ctx, "ev", time.Minute)),
		"Acquire":    second(s.Locks().Acquire(ctx, "k", "o", time.Minute)),
		"Validate":   s.Locks().Validate(ctx, store.Lease{Key: "k", Owner: "o", Fence: 1}),
		"Extend":     second(s.Locks().Extend(ctx, store.Lease{Key: "k", Owner: "o", Fence: 1}, time.Minute)),
		"Release":    s.Locks().Release(ctx, store.Lease{Key: "k", Owner: "o", Fence: 1}),
		"PutReply":   s.Replies().PutReply(ctx, store.InflightReply{ID: "r"}),
		"ListReply":  second(s.Replies().ListReplies(ctx, time.Time{})),
		"DelReply":   s.Replies().DeleteReply(ctx, "r"),
	}
	_, _, err := s.Budgets().Take(ctx, "b", store.Limit{Rate: 1, Burst: 1}, 1)
	calls["Take"] = err
	calls["Reserve"] = second(s.Budgets().Reserve(ctx, []store.Bucket{{Key: "b", Limit: store.Limit{Rate: 1, Burst: 1}}}, 0))
	calls["Lease"] = second(s.Budgets().Lease(ctx, store.Bucket{Key: "b", Limit: store.Limit{Rate: 1, Burst: 1}}, 1))
	calls["Return"] = s.Budgets().Return(ctx, store.Bucket{Key: "b", Limit: store.Limit{Rate: 1, Burst: 1}}, 1)
	calls["Admit"] = second(s.Turns().Admit(ctx, []string{"ev"}, time.Minute, "b", store.Limit{Rate: 1, Burst: 1}))
	calls["Begin"] = second(s.Turns().Begin(ctx, "k", "o", time.Minute, conv))
	calls["Finish"] = s.Turns().Finish(ctx, store.Lease{Key: "k", Owner: "o", Fence: 1}, nil, 0, "")
	calls["Enter"] = second(s.Turns().Enter(ctx, []string{"ev"}, time.Minute, "b", store.Limit{Rate: 1, Burst: 1},
		store.InboxEntry{ID: "e", Owner: "o", Conversation: conv}, 1))
	calls["Beat"] = s.Liveness().Beat(ctx, "o", time.Minute)
	calls["Alive"] = second(s.Liveness().Alive(ctx))
	calls["Leave"] = s.Liveness().Leave(ctx, "o")
	calls["Break"] = s.Locks().Break(ctx, "k", "o")
	calls["ListInbox"] = second(s.Inbox().List(ctx))
	calls["RemoveInbox"] = s.Inbox().Remove(ctx, "e")
	calls["Adopt"] = second(s.Inbox().Adopt(ctx, "o", "p"))
	calls["RequestCancel"] = second(s.Cancels().Request(ctx, "r", time.Minute))
	calls["CancelRequested"] = second(s.Cancels().Requested(ctx, "r"))
	calls["WatchCancels"] = second(s.Cancels().Watch(ctx))
	for name, err := range calls {
		mustBe(t, err, store.ErrClosed, fmt.Sprintf("%s after Close", name))
	}
}

func second[T any](_ T, err error) error { return err }

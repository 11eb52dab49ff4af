package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func sampleReply(id string, updated time.Time) store.InflightReply {
	return store.InflightReply{
		ID:           id,
		Owner:        "replica-1",
		Conversation: store.ConversationKey{Platform: "discord", Channel: "c1", Thread: "t1", User: "u1"},
		ReplyTo:      "trigger-of-" + id,
		Refs:         []store.ReplyRef{{Channel: "c1", ID: "m1"}, {Channel: "c1", ID: "m2", Extra: "x"}},
		Text:         "partial text of " + id,
		SessionID:    "labs_sess_" + id,
		Locale:       "en",
		Native:       id == "r2",
		FinalParts:   finalParts(id),
		Live:         true,
		StartedAt:    base,
		UpdatedAt:    updated,
	}
}

// finalParts gives r3 the final parts of a reply cut off at its final
// delivery (one of them with a mention neutralized and CJK text).
func finalParts(id string) []string {
	if id != "r3" {
		return nil
	}
	return []string{"the whole first part of " + id, "@\u200beveryone 第二部分"}
}

func listReplies(t *testing.T, s store.Store, olderThan time.Time) []store.InflightReply {
	t.Helper()
	rs, err := s.Replies().ListReplies(t.Context(), olderThan)
	mustOK(t, err, "list replies")
	slices.SortFunc(rs, func(a, b store.InflightReply) int { return cmp.Compare(a.ID, b.ID) })
	return rs
}

func testReplies(t *testing.T, s store.Store) {
	ctx, replies := t.Context(), s.Replies()
	if rs := listReplies(t, s, time.Time{}); len(rs) != 0 {
		t.Fatalf("empty store lists %d replies", len(rs))
	}
	r1 := sampleReply("r1", base)
	r2 := sampleReply("r2", base.Add(time.Minute))
	r3 := sampleReply("r3", base.Add(2*time.Minute))
	for _, r := range []store.InflightReply{r1, r2, r3} {
		mustOK(t, replies.PutReply(ctx, r), "put reply "+r.ID)
	}
	mustEqual(t, []store.InflightReply{r1, r2, r3}, listReplies(t, s, time.Time{}), "list all")
	mustEqual(t, []store.InflightReply{r1, r2}, listReplies(t, s, base.Add(90*time.Second)), "list older than 90s")
	mustEqual(t, []store.InflightReply{r1}, listReplies(t, s, base.Add(time.Minute)), "olderThan is exclusive")

	r1.Text += " and more"
	r1.Refs = append(r1.Refs, store.ReplyRef{Channel: "c1", ID: "m3"})
	r1.FinalParts = []string{"the final text of r1"}
	r1.UpdatedAt = base.Add(3 * time.Minute)
	mustOK(t, replies.PutReply(ctx, r1), "replace reply")
	mustEqual(t, []store.InflightReply{r2}, listReplies(t, s, base.Add(90*time.Second)), "list after replace")

	mustOK(t, replies.DeleteReply(ctx, "r2"), "delete reply")
	mustBe(t, replies.DeleteReply(ctx, "r2"), store.ErrNotFound, "delete missing reply")
	mustEqual(t, []store.InflightReply{r1, r3}, listReplies(t, s, time.Time{}), "list after delete")

	// Writing a record again without final parts drops them.
	r3.FinalParts = nil
	mustOK(t, replies.PutReply(ctx, r3), "replace final parts")
	mustEqual(t, []store.InflightReply{r1, r3}, listReplies(t, s, time.Time{}), "list after final parts dropped")
}

package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Opener opens the backend under test on the same data every time (the
// same bolt file, the same Redis prefix) with sealer. The caller closes
// each store before opening the next.
type Opener func(t testing.TB, sealer *store.Sealer) store.Store

// Sealer returns a Sealer for current with previous keys, failing t on
// error. Keys are made with Key.
func Sealer(t *testing.T, current []byte, previous ...[]byte) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Key returns a fresh random encryption key.
func Key() []byte {
	k := make([]byte, store.KeySize)
	_, _ = rand.Read(k)
	return k
}

// RunKeyRotationTest checks store.previous_encryption_keys and Rekey on a
// backend, over every kind of sealed record (links, pending links,
// in-flight replies, inbox entries, workspace installs): records written
// under key A are unreadable under B alone (a link is absent, never an
// error; an inbox entry is listed Unreadable; an install's read fails with
// ErrUnseal), readable under B with A as a previous key, and re-sealed
// under B when written or when Rekey runs, after which B alone opens them.
// Rekey counts what it did; a record under an unknown key is counted
// unreadable and left alone (and can still be deleted).
func RunKeyRotationTest(t *testing.T, open Opener) {
	t.Helper()
	ctx := t.Context()
	a, b, c := Key(), Key(), Key()
	u1 := store.UserKey{Platform: "discord", User: "rot-1"}
	u2 := store.UserKey{Platform: "slack", Workspace: "T1", User: "rot-2"}
	l1, l2 := sampleLink(u1, "rot1"), sampleLink(u2, "rot2")
	pending := samplePending()
	pending.Interaction = "i1:app:chan:1700000000:1:interaction-token-" + rand.Text()
	reply := store.InflightReply{
		ID: "rot-reply", Owner: "o", Conversation: store.ConversationKey{Platform: "discord", Channel: "c", User: "rot-1"},
		Refs:      []store.ReplyRef{{Channel: "c", ID: "m1", Extra: "o|" + pending.Interaction}, {Channel: "c", ID: "m2"}},
		StartedAt: base, UpdatedAt: base,
	}
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "rot-1"}
	inA, inB, inC := rotEntry("rot-inbox-a", conv, pending.Interaction), rotEntry("rot-inbox-b", conv, "b"), rotEntry("rot-inbox-c", conv, "c")
	instA, instW, instC := rotInstall("TROTA"), rotInstall("TROTW"), rotInstall("TROTC")

	s := open(t, Sealer(t, a))
	rotEnter(t, s, inA)
	mustOK(t, s.Installs().PutInstall(ctx, instA), "put install under A")
	mustOK(t, s.Installs().PutInstall(ctx, instW), "put install W under A")
	mustOK(t, s.Links().PutLink(ctx, l1), "put link 1 under A")
	mustOK(t, s.Links().PutLink(ctx, l2), "put link 2 under A")
	mustOK(t, s.States().PutState(ctx, "link:rot-state", pending, time.Hour), "put state under A")
	mustOK(t, s.Replies().PutReply(ctx, reply), "put reply under A")
	mustOK(t, s.Close(), "close")

	// B alone: everything sealed under A is unreadable, which means absent.
	s = open(t, Sealer(t, b))
	_, err := s.Links().GetLink(ctx, u1)
	mustBe(t, err, store.ErrNotFound, "get link sealed under an unknown key")
	if !errors.Is(err, store.ErrUnseal) {
		t.Errorf("get unreadable link: err = %v, want it to wrap ErrUnseal too", err)
	}
	_, err = s.Links().UpdateLink(ctx, u1, func(l store.Link) (store.Link, error) { return l, nil })
	mustBe(t, err, store.ErrNotFound, "update unreadable link")
	ts, err := s.Turns().Begin(ctx, "rot-turn", "owner", time.Minute, conv)
	mustOK(t, err, "begin a turn of a user whose link is unreadable")
	if ts.HasLink {
		t.Error("Begin: HasLink for an unreadable link")
	}
	mustOK(t, s.Locks().Release(ctx, ts.Lease), "release the turn lock")
	replies, err := s.Replies().ListReplies(ctx, time.Time{})
	mustOK(t, err, "list replies whose handles are unreadable")
	if len(replies) != 1 || replies[0].Refs[0].Extra != "" || replies[0].Refs[0].ID != "m1" {
		t.Errorf("unreadable reply = %+v, want it listed with its handles dropped", replies)
	}
	if es := listInbox(t, s); len(es) != 1 || !es[0].Unreadable || es[0].Item != nil || es[0].ID != inA.ID {
		t.Errorf("inbox under an unknown key = %+v, want the entry listed unreadable, without its item", es)
	}
	_, err = s.Installs().GetInstall(ctx, instA.Platform, instA.Workspace)
	mustBe(t, err, store.ErrUnseal, "get an install sealed under an unknown key")
	mustOK(t, s.Close(), "close")

	// B with A as a previous key: readable; a write re-seals under B.
	s = open(t, Sealer(t, b, a))
	got, err := s.Links().GetLink(ctx, u1)
	mustOK(t, err, "get link under a previous key")
	if diff := cmp.Diff(l1, got); diff != "" {
		t.Errorf("link under a previous key (-want +got):\n%s", diff)
	}
	_, err = s.Links().UpdateLink(ctx, u1, func(l store.Link) (store.Link, error) {
		l.UpdatedAt = l.UpdatedAt.Add(time.Second)
		return l, nil
	})
	mustOK(t, err, "update link under a previous key")
	rotCheck(t, s, []store.InboxEntry{inA}, instA, instW)
	// Writes seal under B: a new entry, an install written again.
	rotEnter(t, s, inB)
	mustOK(t, s.Installs().PutInstall(ctx, instW), "put install W under B (A previous)")
	rk, ok := s.(store.Rekeyer)
	if !ok {
		t.Fatalf("%T does not implement store.Rekeyer", s)
	}
	counts, err := rk.Rekey(ctx)
	mustOK(t, err, "rekey")
	// Link 1, install W and entry B were sealed under B by their writes;
	// link 2, the state, the reply, entry A and install A are re-sealed by
	// Rekey.
	if want := (store.RekeyCounts{Resealed: 5, Current: 3}); counts != want {
		t.Errorf("rekey counts = %+v, want %+v", counts, want)
	}
	counts, err = rk.Rekey(ctx)
	mustOK(t, err, "second rekey")
	if want := (store.RekeyCounts{Current: 8}); counts != want {
		t.Errorf("second rekey counts = %+v, want %+v", counts, want)
	}
	mustOK(t, s.Close(), "close")

	// A record sealed under C, which the next configuration lacks.
	s = open(t, Sealer(t, c))
	stranger := sampleLink(store.UserKey{Platform: "discord", User: "rot-3"}, "rot3")
	mustOK(t, s.Links().PutLink(ctx, stranger), "put link under C")
	rotEnter(t, s, inC)
	mustOK(t, s.Installs().PutInstall(ctx, instC), "put install under C")
	mustOK(t, s.Close(), "close")

	// B alone again: everything rekeyed opens; the C record is unreadable.
	s = open(t, Sealer(t, b))
	for _, want := range []store.Link{l1, l2} {
		got, err := s.Links().GetLink(ctx, want.Key)
		mustOK(t, err, "get rekeyed link under B alone")
		if got.Token.AccessToken != want.Token.AccessToken || got.Token.RefreshToken != want.Token.RefreshToken {
			t.Errorf("rekeyed link %v: tokens differ", want.Key)
		}
	}
	replies, err = s.Replies().ListReplies(ctx, time.Time{})
	mustOK(t, err, "list rekeyed replies")
	if len(replies) != 1 || replies[0].Refs[0].Extra != reply.Refs[0].Extra {
		t.Errorf("rekeyed reply = %+v, want its handle back", replies)
	}
	counts, err = s.(store.Rekeyer).Rekey(ctx)
	mustOK(t, err, "rekey with unreadable records")
	if want := (store.RekeyCounts{Current: 8, Unreadable: 3}); counts != want {
		t.Errorf("rekey counts = %+v, want %+v (the link, entry and install under C unreadable)", counts, want)
	}
	// Unreadable entries and installs can be removed.
	mustOK(t, s.Inbox().Remove(ctx, inC.ID), "remove an unreadable inbox entry")
	mustOK(t, s.Installs().DeleteInstall(ctx, instC.Platform, instC.Workspace), "delete an unreadable install")
	rotCheck(t, s, []store.InboxEntry{inA, inB}, instA, instW)
	// An unreadable link is overwritten by a new link and removed by
	// DeleteLink.
	mustOK(t, s.Links().DeleteLink(ctx, stranger.Key), "delete an unreadable link")
	_, err = s.Links().GetLink(ctx, stranger.Key)
	mustBe(t, err, store.ErrNotFound, "get deleted unreadable link")
	if errors.Is(err, store.ErrUnseal) {
		t.Error("deleted link still reported unreadable")
	}
	mustOK(t, s.Close(), "close")

	// The state id was hashed under A: with A a previous key it is still
	// found, with its handle.
	s = open(t, Sealer(t, b, a))
	p, err := s.States().ConsumeState(ctx, "link:rot-state")
	mustOK(t, err, "consume a state stored under the previous key")
	if p.Interaction != pending.Interaction {
		t.Error("state's interaction handle lost in rotation")
	}
	mustOK(t, s.Close(), "close")
}

// RunAtRestTest stores what the bridge stores while a user is linked, a
// link is pending (its one-time id and its OAuth state, each with an
// interaction handle), a reply is in flight (with interaction handles in
// its refs), a message waits in the inbox (its item holding an interaction
// token and a response_url) and a Slack workspace is installed (bot and
// refresh tokens), then checks that raw, which must return every byte the backend
// holds (the whole bolt file; every Redis key and value under the prefix),
// contains none of the secrets: tokens, ids, handles. A cleartext field is
// looked for too, to show that raw sees the data.
func RunAtRestTest(t *testing.T, s store.Store, raw func(t testing.TB) []byte) {
	t.Helper()
	ctx := t.Context()
	secret := func(kind string) string { return kind + "-" + rand.Text() }
	u := store.UserKey{Platform: "discord", User: "rest-1"}
	l := sampleLink(u, "rest")
	l.SecondMeUserID = "cleartext-marker-" + rand.Text()
	l.Token.AccessToken, l.Token.RefreshToken = secret("lba_at_access"), secret("lba_rt_refresh")
	mustOK(t, s.Links().PutLink(ctx, l), "put link")

	linkID, stateID := secret("linkid"), secret("oauthstate")
	handle := "i1:app:chan:1700000000:1:" + secret("interactiontoken")
	respURL := "https://hooks.slack.com/commands/T1/1/" + secret("responseurl")
	p := samplePending()
	p.Interaction = handle
	mustOK(t, s.States().PutState(ctx, "link:"+linkID, p, time.Hour), "put pending link id")
	p.Interaction = respURL
	mustOK(t, s.States().PutState(ctx, "state:"+stateID, p, time.Hour), "put oauth state")
	mustOK(t, s.Replies().PutReply(ctx, store.InflightReply{
		ID: "rest-reply", Owner: "o", Conversation: store.ConversationKey{Platform: "discord", Channel: "c", User: "rest-1"},
		Refs:      []store.ReplyRef{{Channel: "c", ID: "m1", Extra: "o|" + handle}, {Channel: "c", ID: "m2", Extra: "r|" + respURL}},
		StartedAt: base, UpdatedAt: base,
	}), "put reply")
	item := []byte(`{"target":{"interaction":"` + handle + `","response_url":"` + respURL + `"},"text":"hi"}`)
	rotEnter(t, s, store.InboxEntry{ID: "rest-entry", Owner: "o", Conversation: store.ConversationKey{Platform: "discord", Channel: "c", User: "rest-1"}, Item: item, AdmittedAt: base})
	inst := store.Install{Platform: "slack", Workspace: "TREST", BotUserID: "UB", Token: store.Token{AccessToken: secret("xoxb_bot"), RefreshToken: secret("xoxe_refresh")}}
	mustOK(t, s.Installs().PutInstall(ctx, inst), "put install")

	dump := raw(t)
	if !bytes.Contains(dump, []byte(l.SecondMeUserID)) {
		t.Fatalf("raw dump (%d bytes) lacks the cleartext marker: it does not show the stored data", len(dump))
	}
	for name, v := range map[string]string{
		"access token": l.Token.AccessToken, "refresh token": l.Token.RefreshToken,
		"link id": linkID, "oauth state": stateID,
		"interaction token": handle[len("i1:app:chan:1700000000:1:"):], "response url": respURL[len("https://hooks.slack.com/commands/"):],
		"install's bot token": inst.Token.AccessToken, "install's refresh token": inst.Token.RefreshToken,
	} {
		if bytes.Contains(dump, []byte(v)) {
			t.Errorf("raw store bytes contain the %s in the clear", name)
		}
		for _, form := range Base64Forms(v) {
			if bytes.Contains(dump, []byte(form)) {
				t.Errorf("raw store bytes contain the %s in base64 (a []byte field not sealed)", name)
			}
		}
	}
	// Everything still round-trips.
	got, err := s.States().ConsumeState(ctx, "link:"+linkID)
	mustOK(t, err, "consume link id")
	if got.Interaction != handle {
		t.Error("pending link's handle does not round-trip")
	}
	replies, err := s.Replies().ListReplies(ctx, time.Time{})
	mustOK(t, err, "list replies")
	if len(replies) != 1 || replies[0].Refs[1].Extra != "r|"+respURL {
		t.Errorf("reply refs do not round-trip: %+v", replies)
	}
	if es := listInbox(t, s); len(es) != 1 || !bytes.Equal(es[0].Item, item) {
		t.Errorf("inbox entry does not round-trip: %+v", es)
	}
	got2, err := s.Installs().GetInstall(ctx, inst.Platform, inst.Workspace)
	if err != nil || got2.Token.AccessToken != inst.Token.AccessToken || got2.Token.RefreshToken != inst.Token.RefreshToken {
		t.Errorf("install does not round-trip: %+v, %v", got2, err)
	}
}

// rotEntry is an inbox entry of the key rotation test whose item holds
// secret.
func rotEntry(id string, conv store.ConversationKey, secret string) store.InboxEntry {
	return store.InboxEntry{ID: id, Owner: "o", Conversation: conv, Item: []byte(`{"interaction":"` + secret + `"}`), AdmittedAt: base}
}

// rotEnter admits e (a dedupe id of its own, no bound in the way).
func rotEnter(t *testing.T, s store.Store, e store.InboxEntry) {
	t.Helper()
	a := enter(t, s, []string{"ev-" + e.ID}, e, 9)
	if !a.Claimed || !a.Allowed || a.Full {
		t.Fatalf("enter %s = %+v", e.ID, a)
	}
}

// rotInstall is a Slack install of the key rotation test, with secret
// tokens.
func rotInstall(team string) store.Install {
	return store.Install{
		Platform: "slack", Workspace: team, BotUserID: "UB" + team,
		Token:     store.Token{AccessToken: "xoxb-" + rand.Text(), RefreshToken: "xoxe-" + rand.Text(), Expiry: base.Add(time.Hour)},
		CreatedAt: base, UpdatedAt: base,
	}
}

// rotCheck checks that the inbox holds exactly entries, readable, and that
// installs open with their tokens.
func rotCheck(t *testing.T, s store.Store, entries []store.InboxEntry, installs ...store.Install) {
	t.Helper()
	es := listInbox(t, s)
	if len(es) != len(entries) {
		t.Fatalf("inbox = %+v, want %d entries", es, len(entries))
	}
	for i, want := range entries {
		if es[i].ID != want.ID || es[i].Unreadable || !bytes.Equal(es[i].Item, want.Item) {
			t.Errorf("inbox entry %d = %+v, want %s readable with its item", i, es[i], want.ID)
		}
	}
	for _, want := range installs {
		got, err := s.Installs().GetInstall(t.Context(), want.Platform, want.Workspace)
		mustOK(t, err, "get install "+want.Workspace)
		if got.Token.AccessToken != want.Token.AccessToken || got.Token.RefreshToken != want.Token.RefreshToken {
			t.Errorf("install %s: tokens differ", want.Workspace)
		}
	}
}

// Base64Forms returns what standard base64 (JSON's encoding of []byte)
// shows of v wherever v starts in the encoded bytes: for each of the three
// alignments, the characters that depend on v's bytes only. A scan of a
// store's raw bytes looks for these too, to catch a []byte field that was
// not sealed.
func Base64Forms(v string) []string {
	var out []string
	for pad := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, pad), v...))
		start := 0
		if pad > 0 {
			start = 4
		}
		if end := len(enc) - 4; end-start >= 16 {
			out = append(out, enc[start:end])
		}
	}
	return out
}

package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

const adaPicture = "https://cdn.second.me/ada.png"

// linkWithPicture links user to a SecondMe account named name whose cached
// profile has adaPicture.
func (h *harness) linkWithPicture(user, name string) {
	h.t.Helper()
	link := h.link(user, name)
	link.AvatarURL = adaPicture
	if err := h.st.Links().PutLink(h.t.Context(), link); err != nil {
		h.t.Fatal(err)
	}
}

// replyCalls returns the successful calls that posted or changed the
// reply's messages (not typing, not notices sent ephemerally).
func replyCalls(p *platformtest.Platform) []platformtest.Call {
	var out []platformtest.Call
	for _, c := range p.CallsOf(platformtest.CallSend, platformtest.CallEdit, platformtest.CallStartStream) {
		if c.Err == nil {
			out = append(out, c)
		}
	}
	return out
}

// wantPersona checks that every call carries as (nil: the bot).
func wantPersona(t *testing.T, p *platformtest.Platform, calls []platformtest.Call, as *platforms.Persona) {
	t.Helper()
	if len(calls) == 0 {
		t.Fatalf("no reply calls\n%s", p.Dump())
	}
	for _, c := range calls {
		switch {
		case as == nil && c.As != nil:
			t.Errorf("call %d (%s) posted as %+v, want the bot", c.Seq, c.Kind, *c.As)
		case as != nil && (c.As == nil || *c.As != *as):
			t.Errorf("call %d (%s) posted as %+v, want %+v\n%s", c.Seq, c.Kind, c.As, *as, p.Dump())
		}
	}
}

func TestReplyAsAvatarOnEveryMessageOfASplitStreamedReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.linkWithPicture("u1", "Ada")
	h.askLongReply("")
	msgs := h.p.Messages()
	if len(msgs) < 3 {
		t.Fatalf("want the reply split over at least 3 messages, got %d\n%s", len(msgs), h.p.Dump())
	}
	calls := replyCalls(h.p)
	if n := len(h.p.CallsOf(platformtest.CallEdit)); n == 0 {
		t.Fatalf("the reply was never edited: it did not stream\n%s", h.p.Dump())
	}
	want := &platforms.Persona{Name: "Ada", AvatarURL: adaPicture}
	wantPersona(t, h.p, calls, want)
	for _, m := range msgs {
		if m.As == nil || *m.As != *want {
			t.Errorf("message %s posted as %+v, want %+v", m.Ref.ID, m.As, *want)
		}
	}
	h.settle()
	if recs := h.inflight(); len(recs) != 0 {
		t.Errorf("in-flight records left: %+v", recs)
	}
}

func TestReplyAsAvatarOpensTheNativeStreamUnderThePersona(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{Limits: platforms.Limits{MaxMessageChars: 600}, MaxStreamChars: 600}})
	h.linkWithPicture("u1", "Ada")
	h.askLongReply("t1")
	starts := h.p.CallsOf(platformtest.CallStartStream)
	if len(starts) < 2 {
		t.Fatalf("want the reply over several stream messages (a rollover), got %d\n%s", len(starts), h.p.Dump())
	}
	wantPersona(t, h.p, replyCalls(h.p), &platforms.Persona{Name: "Ada", AvatarURL: adaPicture})
}

func TestReplyAsBotKeepsTodaysMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replyAs ReplyAs
		unnamed bool
	}{
		{name: "reply_as bot", replyAs: ReplyAsBot},
		{name: "no SecondMe name", replyAs: ReplyAsAvatar, unnamed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.ReplyAs = tc.replyAs }})
			name := "Ada"
			if tc.unnamed {
				name = ""
			}
			h.linkWithPicture("u1", name)
			deltas := words("Hello there! This is a streamed reply from your avatar, arriving a few characters at a time.")
			h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 10 * time.Millisecond})
			h.deliver(h.msg("u1", "c1", "", "hi"))
			h.waitReplies(1)
			if msgs := h.p.Messages(); len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) {
				t.Fatalf("want the one reply as before\n%s", h.p.Dump())
			}
			wantPersona(t, h.p, replyCalls(h.p), nil)
		})
	}
}

func TestReplyAsAppliesLiveToTheNextReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.linkWithPicture("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "first"))
	h.waitReplies(1)
	wantPersona(t, h.p, replyCalls(h.p), &platforms.Persona{Name: "Ada", AvatarURL: adaPicture})
	tun := h.b.Tunables()
	tun.ReplyAs = ReplyAsBot
	if err := h.b.SetTunables(tun); err != nil {
		t.Fatal(err)
	}
	before := len(replyCalls(h.p))
	h.deliver(h.msg("u1", "c1", "", "second"))
	h.waitReplies(2)
	wantPersona(t, h.p, replyCalls(h.p)[before:], nil)
	tun.ReplyAs = "someone"
	if err := h.b.SetTunables(tun); err == nil {
		t.Error("SetTunables took reply as \"someone\"")
	}
	if _, err := New(Config{Store: h.st, SecondMe: h.sm.Client(), Linker: h.linker, ReplyAs: "someone"}); err == nil {
		t.Error("New took reply as \"someone\"")
	}
}

func TestWhoamiSaysWhoReplies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replyAs ReplyAs
		user    string // SecondMe name cached with the link
		want    string
	}{
		{name: "avatar", replyAs: ReplyAsAvatar, user: "Ada", want: "from your avatar, as “Ada”"},
		{name: "bot", replyAs: ReplyAsBot, user: "Ada", want: "from the bot: this bridge is set to answer as the bot (reply_as: bot)"},
		{name: "no name", replyAs: ReplyAsAvatar, want: "from the bot: your SecondMe account has no name yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.ReplyAs = tc.replyAs }})
			h.link("u1", tc.user)
			h.deliver(h.cmd("u1", "c1", "whoami", ""))
			got := h.waitEphemeral("Your replies here")
			if !strings.Contains(got.Text, tc.want) {
				t.Errorf("/whoami = %q, want it to say %q", got.Text, tc.want)
			}
		})
	}
	t.Run("zh", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		ev := h.cmd("u1", "c1", "whoami", "")
		ev.User.Locale = "zh-CN"
		h.deliver(ev)
		if got := h.waitEphemeral("来自你的分身"); !strings.Contains(got.Text, "“Ada”") {
			t.Errorf("/whoami = %q", got.Text)
		}
	})
}

func TestOrphanFinalEditKeepsThePersona(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), noRun: true})
	ctx := t.Context()
	to := platforms.Target{Workspace: "G1", Channel: "c1", User: "u1"}
	as := &platforms.Persona{Name: "Ada", AvatarURL: adaPicture}
	ref, err := h.p.As().Send(ctx, to, platforms.Message{Text: "Half of the answer", As: as})
	if err != nil {
		t.Fatal(err)
	}
	rec := store.InflightReply{
		ID: "r1", Owner: "gone", Conversation: store.ConversationKey{Platform: testPlatform, Workspace: "G1", Channel: "c1", User: "u1"},
		Refs: []store.ReplyRef{{Channel: string(ref.Channel), ID: string(ref.ID)}}, Text: "Half of the answer",
		AsName: as.Name, AsAvatarURL: as.AvatarURL,
	}
	if err := h.b.out.FinishOrphan(ctx, h.p.As(), rec, "(interrupted)", h.b.log); err != nil {
		t.Fatal(err)
	}
	edits := h.p.CallsOf(platformtest.CallEdit)
	if len(edits) != 1 || !strings.Contains(edits[0].Text, "(interrupted)") {
		t.Fatalf("want one final edit with the notice\n%s", h.p.Dump())
	}
	wantPersona(t, h.p, edits, as)
}

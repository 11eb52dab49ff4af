package platformtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

const zws = "\u200b"

func TestLiveMention(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain text", ""},
		{"hey @everyone", "@everyone"},
		{"hey @here", "@here"},
		{"hey @" + zws + "everyone", ""},
		{"<@123>", "<@1"},
		{"<@!123>", "<@!1"},
		{"<@&123>", "<@&1"},
		{"<" + zws + "@123>", ""},
		{"<!channel>", "<!channel"},
		{"<!here|here>", "<!here"},
		{"<!everyone>", "<!everyone"},
		{"<!subteam^S1>", "<!subteam^"},
		{"<@U123ABC>", "<@U"},
		{"<" + zws + "!channel>", ""},
		{"a <b> tag, <#C1>, me@example.com, <@>", ""},
	}
	for _, tc := range tests {
		if got := platformtest.LiveMention(tc.in); got != tc.want {
			t.Errorf("LiveMention(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckMentions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{})
	pl := p.As()
	if _, err := pl.Send(ctx, to, msg("safe @"+zws+"everyone and <"+zws+"@123>")); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckMentions(); err != nil {
		t.Fatalf("neutralized text reported: %v", err)
	}

	// A mention split across stream deltas is still caught.
	st := platforms.ResolveCaps(pl).Streamer
	ref, err := st.StartStream(ctx, to, "hello @every")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendStream(ctx, ref, "one"); err != nil {
		t.Fatal(err)
	}
	err = p.CheckMentions()
	if err == nil || !strings.Contains(err.Error(), "message "+string(ref.ID)) {
		t.Fatalf("CheckMentions = %v, want the stream's text reported", err)
	}

	q := platformtest.New(platformtest.Options{})
	if _, err := q.As().Send(ctx, to, platforms.Message{Text: "ok", Buttons: []platforms.LinkButton{{Label: "<!here>", URL: "https://x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := q.CheckMentions(); err == nil || !strings.Contains(err.Error(), "button") {
		t.Errorf("CheckMentions = %v, want the button label reported", err)
	}
}

// recordingTB records Errorf instead of failing the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestAssertNoMentions(t *testing.T) {
	t.Parallel()
	p := platformtest.New(platformtest.Options{})
	if _, err := p.As().Send(t.Context(), to, msg("all quiet")); err != nil {
		t.Fatal(err)
	}
	quiet := &recordingTB{TB: t}
	p.AssertNoMentions(quiet)
	if len(quiet.errors) != 0 {
		t.Errorf("AssertNoMentions failed on quiet text: %v", quiet.errors)
	}
	if _, err := p.As().Send(t.Context(), to, msg("ping @here")); err != nil {
		t.Fatal(err)
	}
	loud := &recordingTB{TB: t}
	p.AssertNoMentions(loud)
	if len(loud.errors) != 1 || !strings.Contains(loud.errors[0], `"@here"`) {
		t.Errorf("AssertNoMentions on @here reported %q", loud.errors)
	}
}

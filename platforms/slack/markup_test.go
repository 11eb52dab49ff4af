package slack

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

func TestPlainText(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"<@UBOT> hello", "hello"},
		{"<@UBOT|secondme>   hello", "hello"},
		{"hey <@UBOT> what's up", "hey what's up"},
		{"<@UBOT>\nline one\n  indented", "line one\n  indented"},
		{"ask <@U7|bob> and <@U8>", "ask @bob and @U8"},
		{"see <#C1|general> and <#C2>", "see #general and #C2"},
		{"<!here> <!channel> <!everyone>", "@here @channel @everyone"},
		{"<!subteam^S1|@devs> <!subteam^S2>", "@devs @S2"},
		{"<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"<https://example.com>", "https://example.com"},
		{"<https://example.com|https://example.com>", "https://example.com"},
		{"<https://example.com/a?b=1|the docs>", "the docs (https://example.com/a?b=1)"},
		{"<mailto:a@b.co|a@b.co>", "a@b.co"},
		{"1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"},
		{"&amp;lt; stays", "&lt; stays"},
		{"", ""},
	}
	for _, c := range cases {
		if got := plainText(c.in, "UBOT"); got != c.want {
			t.Errorf("plainText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNeutralize(t *testing.T) {
	t.Parallel()
	z := zwsp
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"<!channel> <!here> <!everyone>", "<" + z + "!channel> <" + z + "!here> <" + z + "!everyone>"},
		{"<!HERE|here>", "<" + z + "!HERE|here>"},
		{"<!group> <!GROUP|group>", "<" + z + "!group> <" + z + "!GROUP|group>"},
		{"<@U123> <@W1|x> <@B1>", "<" + z + "@U123> <" + z + "@W1|x> <@B1>"},
		{"<!subteam^S1|@devs>", "<" + z + "!subteam^S1|@devs>"},
		{"@here and (@channel) @everyone!", "@" + z + "here and (@" + z + "channel) @" + z + "everyone!"},
		{"mail me@here.com or @hereafter", "mail me@here.com or @hereafter"},
		{"a < b and <https://x.io> and <!date^1|d>", "a < b and <https://x.io> and <!date^1|d>"},
		{"code: `if a<!b`", "code: `if a<!b`"},
		{"<" + z + "!here> already safe", "<" + z + "!here> already safe"},
	}
	for _, c := range cases {
		if got := neutralize(c.in); got != c.want {
			t.Errorf("neutralize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Stream pieces: a trailing start of a ping is broken too.
	for _, in := range []string{"x <", "x <!", "x <!he", "x <!gr", "x <!subteam", "x <@", "x @", "x @ever"} {
		got := neutralizeDelta(in)
		if !strings.Contains(got, z) {
			t.Errorf("neutralizeDelta(%q) = %q, want the tail broken", in, got)
		}
		if strings.ReplaceAll(got, z, "") != in {
			t.Errorf("neutralizeDelta(%q) changed more than the zero-width space: %q", in, got)
		}
	}
	for _, in := range []string{"x <a", "mail@", "x <!dat"} {
		if got := neutralizeDelta(in); got != in {
			t.Errorf("neutralizeDelta(%q) = %q, want unchanged", in, got)
		}
	}
}

func TestSplitRunes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		n     int
		parts int
	}{
		{"", 5, 0},
		{"abc", 5, 1},
		{"abcde", 5, 1},
		{"abcdef", 5, 2},
		{strings.Repeat("日", 11), 5, 3},
		{"aaaa\nbbbbbbbb", 5, 3},
	}
	for _, c := range cases {
		got := splitRunes(c.in, c.n)
		if len(got) != c.parts || strings.Join(got, "") != c.in {
			t.Errorf("splitRunes(%q, %d) = %q, want %d parts joining to the input", c.in, c.n, got, c.parts)
		}
		for _, p := range got {
			if utf8.RuneCountInString(p) > c.n || !utf8.ValidString(p) {
				t.Errorf("splitRunes(%q, %d): bad part %q", c.in, c.n, p)
			}
		}
	}
	// Prefers a newline near the end of a piece.
	if got := splitRunes("aaaaaaa\nbbb", 10); got[0] != "aaaaaaa\n" {
		t.Errorf("splitRunes did not cut at the newline: %q", got)
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want platforms.Command
	}{
		{"", platforms.Command{Name: "help"}},
		{"   ", platforms.Command{Name: "help"}},
		{"Link", platforms.Command{Name: "link"}},
		{"ask\nmulti\nline", platforms.Command{Name: "ask", Args: "multi\nline"}},
		{"ask <@UBOT> hi", platforms.Command{Name: "ask", Args: "hi"}},
		{"note  spaced   out ", platforms.Command{Name: "note", Args: "spaced out"}},
		{"memory", platforms.Command{Name: "memory"}},
		{"unknown stuff", platforms.Command{Name: "help"}},
		{"/secondme link", platforms.Command{Name: "help"}},
	}
	cs := newCommandSet(platformtest.CommandSpecs())
	for _, c := range cases {
		if got := cs.parseCommand(c.in, "UBOT"); got != c.want {
			t.Errorf("parseCommand(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

// neutralizeReference is the straightforward (quadratic) form of
// neutralizeText: it lowercases the whole rest of the text at every "<" and
// "@". FuzzNeutralize checks the linear one gives identical results.
func neutralizeReference(text string, partialTail bool) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		b.WriteByte(c)
		if c != '<' && c != '@' {
			continue
		}
		rest := strings.ToLower(text[i+1:])
		triggers, bounded := angleTriggers, false
		if c == '@' {
			if !wordStart(text, i) {
				continue
			}
			triggers, bounded = atTriggers, true
		}
		for _, t := range triggers {
			if (strings.HasPrefix(rest, t) && (!bounded || len(rest) == len(t) || !isWordRune(rest[len(t):]))) ||
				(partialTail && len(rest) < len(t) && strings.HasPrefix(t, rest)) {
				b.WriteString(zwsp)
				break
			}
		}
	}
	return b.String()
}

func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{
		"<!channel> <!here> <!everyone>", "<!HERE|here>", "<@U123> <@W1|x> <@B1>", "<!SubTeam^S1|@devs>",
		"@here and (@channel) @EVERYONE!", "mail me@here.com or @hereafter", "@here\u0130 @HERE\u212a @here_",
		"<!\u0130here> <\u212a@U1> <@u1", "@chann", "x <!he", "x <!dat", "<@\xff", "@here\xff", "é@here é<@W",
		"@\u0130 <!sub\u017fteam^", "<!CHANNEL", "@Everyon", "<!GROUP> <!gro",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tail := range []bool{false, true} {
			if got, want := neutralizeText(s, tail), neutralizeReference(s, tail); got != want {
				t.Fatalf("neutralizeText(%q, %v) = %q, want %q", s, tail, got, want)
			}
		}
	})
}

// TestNeutralizeLinear guards against neutralize going quadratic again: a
// message full of "<" and "@" must take a handful of allocations, not one
// per "<" and "@" (the quadratic form copied the rest of the text at each:
// 762 here).
func TestNeutralizeLinear(t *testing.T) {
	allocs := testing.AllocsPerRun(20, func() { _ = neutralize(manyAngles) })
	if allocs > 20 {
		t.Errorf("neutralize of a %d-byte text with many \"<\" made %.0f allocations, want at most 20", len(manyAngles), allocs)
	}
}

package format

import (
	"strings"
	"testing"
)

func TestNeutralizeMentions(t *testing.T) {
	t.Parallel()
	const z = "\u200b"
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"", ""},
		{"@everyone look", "@" + z + "everyone look"},
		{"hi @here!", "hi @" + z + "here!"},
		{"mail me@example.com", "mail me@example.com"},
		{"<@123456>", "<" + z + "@123456>"},
		{"<@!123456> and <@&987>", "<" + z + "@!123456> and <" + z + "@&987>"},
		{"<!channel> <!here> <!everyone>", "<" + z + "!channel> <" + z + "!here> <" + z + "!everyone>"},
		{"<!here|here>", "<" + z + "!here|here>"},
		{"<!subteam^S123|@team>", "<" + z + "!subteam^S123|@team>"},
		{"<@U123ABC> <@W9>", "<" + z + "@U123ABC> <" + z + "@W9>"},
		{"<@U123|bob>", "<" + z + "@U123|bob>"},
		{"a < b and <!DOCTYPE html>", "a < b and <!DOCTYPE html>"},
		{"<#C123> <https://x.y> <@> <@!>", "<#C123> <https://x.y> <@> <@!>"},
		{"<!date^123^{date}|x>", "<!date^123^{date}|x>"},
		{"unterminated <@123 tag", "unterminated <@123 tag"},
		{"`@everyone` in code", "`@" + z + "everyone` in code"},
	}
	for _, tc := range tests {
		got := NeutralizeMentions(tc.in)
		if got != tc.want {
			t.Errorf("NeutralizeMentions(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := NeutralizeMentions(got); again != got {
			t.Errorf("NeutralizeMentions is not idempotent on %q: %q", got, again)
		}
		if strings.ReplaceAll(got, z, "") != strings.ReplaceAll(tc.in, z, "") {
			t.Errorf("NeutralizeMentions(%q) changed more than zero-width spaces: %q", tc.in, got)
		}
	}
}

//nolint:paralleltest // AllocsPerRun counts allocations process-wide.
func TestNeutralizeMentionsNoAlloc(t *testing.T) {
	text := strings.Repeat("no pings here, just a <b> tag and an email a@b.c ", 40)
	if allocs := testing.AllocsPerRun(100, func() { _ = NeutralizeMentions(text) }); allocs != 0 {
		t.Errorf("NeutralizeMentions allocated %v times on text without mentions", allocs)
	}
}

func TestRuneLen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"abc", 3}, {"长文本", 3}, {"👩\u200d👩\u200d👧", 5}, {"e\u0301", 2}, {"\xff\xfe", 2},
	}
	for _, tc := range tests {
		if got := RuneLen(tc.in); got != tc.want {
			t.Errorf("RuneLen(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNeutralizeTrailingMention(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"and <@U12":           "and <\u200b@U12",
		"and <@":              "and <\u200b@",
		"and <@!":             "and <\u200b@!",
		"x <!chan":            "x <\u200b!chan",
		"x <!subteam^S1":      "x <\u200b!subteam^S1",
		"x <!":                "x <\u200b!",
		"done <@U1>":          "done <@U1>", // complete: NeutralizeMentions' job
		"a < b":               "a < b",
		"x <!date":            "x <!date",
		"1 <2":                "1 <2",
		"no tag":              "no tag",
		"<@U1> then <@W9 tai": "<@U1> then <@W9 tai",
		"":                    "",
	} {
		if got := NeutralizeTrailingMention(in); got != want {
			t.Errorf("NeutralizeTrailingMention(%q) = %q, want %q", in, got, want)
		}
	}
}

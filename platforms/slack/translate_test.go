package slack

import "testing"

func TestFromBot(t *testing.T) {
	t.Parallel()
	id := identity{UserID: "UBOT", BotID: "BBOT", TeamID: "T1"}
	cases := []struct {
		user, botID string
		want        bool
	}{
		{"U1", "", false},
		{"W1", "", false},
		{"U1", "BBOT", true}, // our own bot id
		{"U9", "B9", true},   // another bot
		{"UBOT", "", true},   // our own user
		{"", "", true},       // no user
		{"", "BBOT", true},
	}
	for _, c := range cases {
		if got := fromBot(id, c.user, c.botID); got != c.want {
			t.Errorf("fromBot(%q, %q) = %v, want %v", c.user, c.botID, got, c.want)
		}
	}
	// Without a known bot id, any bot id still counts.
	if !fromBot(identity{UserID: "UBOT"}, "U1", "B1") {
		t.Error("fromBot without a known bot id let a bot message through")
	}
}

package slack

import (
	"context"
	"errors"
	"testing"

	slackapi "github.com/slack-go/slack"
)

// TestUserCachePerWorkspace: the same user id in two workspaces is looked
// up once in each, and a failed lookup in one (a missing scope) does not
// hide the user in the other.
func TestUserCachePerWorkspace(t *testing.T) {
	var calls []string
	c := newUserCache(func(ctx context.Context, id string) (*slackapi.User, error) {
		team := teamOf(ctx)
		calls = append(calls, team+"/"+id)
		if team == "TNOSCOPE" {
			return nil, errors.New("missing_scope")
		}
		u := &slackapi.User{Locale: "en-US"}
		u.Profile.DisplayName = "name in " + team
		if team == "T2" {
			u.Locale = "zh-CN"
		}
		return u, nil
	})
	ctx := t.Context()
	for range 2 {
		if name, locale := c.get(withTeam(ctx, "T1"), "U1"); name != "name in T1" || locale != "en-US" {
			t.Errorf("T1/U1 = %q, %q", name, locale)
		}
		if name, locale := c.get(withTeam(ctx, "T2"), "U1"); name != "name in T2" || locale != "zh-CN" {
			t.Errorf("T2/U1 = %q, %q", name, locale)
		}
		if name, locale := c.get(withTeam(ctx, "TNOSCOPE"), "U1"); name != "" || locale != "" {
			t.Errorf("TNOSCOPE/U1 = %q, %q, want nothing", name, locale)
		}
	}
	if want := []string{"T1/U1", "T2/U1", "TNOSCOPE/U1"}; len(calls) != len(want) || calls[0] != want[0] || calls[1] != want[1] || calls[2] != want[2] {
		t.Errorf("lookups = %v, want %v (one per workspace, the failure remembered)", calls, want)
	}
}

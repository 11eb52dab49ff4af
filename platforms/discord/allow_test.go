package discord

import "testing"

// TestSetAllowListsLive: lists replaced while the adapter runs judge the
// events received afterwards, both ways (a channel allowed then refused,
// another refused then allowed; empty lists allow everything again).
func TestSetAllowListsLive(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, func(c *Config) { c.AllowedChannels = []string{parentID} })

	m, err := srv.Mention(guildID, otherChan, alice, "refused at start")
	mustNoErr(t, err, "mention")
	rec.ignoredID(t, m.ID)

	a.SetAllowLists(nil, []string{otherChan})
	m, err = srv.Mention(guildID, otherChan, alice, "allowed after the change")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+m.ID)
	m, err = srv.Mention(guildID, parentID, alice, "refused after the change")
	mustNoErr(t, err, "mention")
	rec.ignoredID(t, m.ID)

	a.SetAllowLists([]string{otherGuild}, nil)
	m, err = srv.Mention(guildID, parentID, alice, "guild no longer allowed")
	mustNoErr(t, err, "mention")
	rec.ignoredID(t, m.ID)

	a.SetAllowLists(nil, nil)
	m, err = srv.Mention(guildID, parentID, alice, "everything allowed again")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+m.ID)
}

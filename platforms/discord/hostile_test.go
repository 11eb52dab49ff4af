package discord

import (
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// TestHostileGatewayPayloads feeds malformed and unexpected gateway
// payloads; the adapter must neither panic nor stop delivering events.
func TestHostileGatewayPayloads(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	huge := strings.Repeat("0123456789", 30_000) // 300 KB of content

	frames := []string{
		`not json at all`,
		`{"op":0,"s":900,"t":"SOMETHING_NEW","d":{"x":1}}`,
		`{"op":42,"d":null}`,
		`{"op":0,"s":901,"t":"MESSAGE_CREATE","d":null}`,
		`{"op":0,"s":902,"t":"MESSAGE_CREATE","d":{}}`,
		`{"op":0,"s":903,"t":"MESSAGE_CREATE","d":"a string"}`,
		`{"op":0,"s":904,"t":"MESSAGE_CREATE","d":{"id":"1","channel_id":"` + channelID + `","author":null,"content":"x"}}`,
		`{"op":0,"s":905,"t":"MESSAGE_CREATE","d":{"id":"2","channel_id":"` + channelID + `","guild_id":"` + guildID +
			`","author":{"id":"9"},"mentions":[null,{"id":"` + srv.BotID() + `"}],"referenced_message":{"id":"3"},"member":null,"content":"<@` + srv.BotID() + `> hi"}}`,
		`{"op":0,"s":906,"t":"MESSAGE_CREATE","d":{"id":"4","channel_id":"","author":{"id":"9"},"content":"x"}}`,
		`{"op":0,"s":907,"t":"INTERACTION_CREATE","d":null}`,
		`{"op":0,"s":908,"t":"INTERACTION_CREATE","d":{}}`,
		`{"op":0,"s":909,"t":"INTERACTION_CREATE","d":{"id":"5","type":2,"token":"t","channel_id":"` + channelID + `"}}`,
		`{"op":0,"s":910,"t":"INTERACTION_CREATE","d":{"id":"6","type":2,"token":"t","data":{"name":"ask","type":1,"options":[null,{"name":"message","value":{"nested":true}}]},"member":{"user":null}}}`,
		`{"op":0,"s":912,"t":"THREAD_CREATE","d":{"id":"10","type":11}}`,
		`{"op":0,"s":913,"t":"MESSAGE_CREATE","d":{"id":"11","channel_id":"` + channelID + `","guild_id":"` + guildID +
			`","author":{"id":"9"},"mentions":[{"id":"` + srv.BotID() + `"}],"content":"<@` + srv.BotID() + `> ` + huge + `"}}`,
	}
	for _, f := range frames {
		mustNoErr(t, srv.SendRawFrame([]byte(f)), "frame")
	}
	rec.event(t, "msg:2")
	if ev := rec.event(t, "msg:11"); len(ev.Text) != len(huge) {
		t.Errorf("huge text length = %d, want %d (passed through; the bridge caps input)", len(ev.Text), len(huge))
	}
	// A context-menu command whose target message is null is handled
	// without argument.
	in, err := srv.SendInteraction(discordtest.Interaction{
		ChannelID: channelID, GuildID: guildID, User: discordtest.DefaultUser,
		Data: map[string]any{"name": "Save to SecondMe", "type": 3, "target_id": "8", "resolved": map[string]any{"messages": map[string]any{"8": nil}}},
	})
	mustNoErr(t, err, "interaction")
	if ev := rec.event(t, "int:"+in.ID); ev.Command == nil || ev.Command.Name != "save" || ev.Command.Args != "" {
		t.Errorf("null target = %+v", ev.Command)
	}

	// Still alive and delivering.
	m, err := srv.Mention(guildID, channelID, discordtest.DefaultUser, "still there?")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+m.ID)
	if !a.Ready() {
		t.Error("adapter not ready after hostile payloads")
	}
}

package platforms

import "context"

// Persona is an identity a message is posted under instead of the bot's:
// the user's SecondMe avatar (its name and picture). It is carried by
// Message.As.
//
// Contract: when Message.As is set, an adapter posts the message under that
// identity where the platform allows it (Discord: a channel webhook with
// username and avatar_url; Slack: username and icon_url, which need the
// chat:write.customize scope). Where it cannot (a Discord DM, a missing
// permission, a webhook deleted under it), it posts as the bot instead,
// logs that once per channel, and the send still succeeds: a persona never
// makes a message fail. The adapter may decorate Name to show that an avatar
// speaks (Discord adds " · SecondMe" and removes substrings Discord
// refuses); the bridge passes the plain name. Edits and stream appends of a
// message keep the identity it was posted under, whatever As says then.
// Interaction answers (Target.Interaction set) are always the bot's.
type Persona struct {
	// Name is the display name (the user's SecondMe name). Required: a
	// persona with an empty Name is ignored.
	Name string
	// AvatarURL is the picture (an https URL), or "" for the platform's
	// default picture.
	AvatarURL string
}

// usable reports whether p names someone.
func (p *Persona) usable() bool { return p != nil && p.Name != "" }

// PersonaOf returns m.As when it names someone, else nil: adapters call it
// instead of testing m.As themselves.
func PersonaOf(m Message) *Persona {
	if m.As.usable() {
		return m.As
	}
	return nil
}

// PersonaStreamer is a Streamer that can open a native stream under a
// persona (Slack: chat.startStream with username and icon_url). The bridge
// calls StartStreamAs instead of StartStream when it has a persona; as nil
// is StartStream. Appends and the stop keep the stream's identity.
type PersonaStreamer interface {
	StartStreamAs(ctx context.Context, to Target, text string, as *Persona) (MessageRef, error)
}

package bridge

import (
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// personaFor returns who link's replies are posted as now: the user's
// avatar (the SecondMe name and picture cached with the link,
// linking.ProfileOf) under reply_as avatar when the account has a name;
// otherwise nil (the bot) and the catalog key of the reason, for /whoami.
// The platform may still post as the bot where it cannot use a persona (a
// Discord DM, a missing permission): platforms.Persona.
func (b *Bridge) personaFor(link store.Link) (*platforms.Persona, text.Key) {
	if b.tunables().ReplyAs == ReplyAsBot {
		return nil, text.MsgRepliesBotConfig
	}
	p := linking.ProfileOf(link)
	if p.Name == "" {
		return nil, text.MsgRepliesBotNoName
	}
	return &platforms.Persona{Name: p.Name, AvatarURL: p.AvatarURL}, ""
}

package slack

import "slices"

// BotScopes returns the bot token scopes the bridge needs (the manifest's
// oauth_config.scopes.bot), for check to compare with the token's.
func BotScopes() []string { return slices.Clone(botScopes) }

// AppTokenScope is the scope the app-level token needs for Socket Mode.
const AppTokenScope = "connections:write"

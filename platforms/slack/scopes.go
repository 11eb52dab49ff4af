package slack

import "slices"

// optionalScopes are manifest scopes the bridge works without: the agent
// surface (assistant:write) latches itself off where it is missing.
var optionalScopes = []string{"assistant:write"}

// BotScopes returns the bot token scopes the bridge needs, for check to
// compare with the token's: the manifest's oauth_config.scopes.bot less
// the optional ones (optionalScopes), so that an app created before the
// agent view still passes.
func BotScopes() []string {
	return slices.DeleteFunc(slices.Clone(botScopes), func(s string) bool { return slices.Contains(optionalScopes, s) })
}

// AppTokenScope is the scope the app-level token needs for Socket Mode.
const AppTokenScope = "connections:write"

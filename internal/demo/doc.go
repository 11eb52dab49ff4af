// Package demo runs the bridge's surroundings for `secondme-bridge demo`:
// a fake SecondMe (secondmetest) with a scripted demo avatar, a fake
// Discord (discordtest), the link of a demo user through the real OAuth
// flow, a local web page that shows the Discord channel as a user would see
// it, and a scripted conversation played in a terminal.
//
// The bridge itself is not started here: cmd/secondme-bridge builds the
// real app (store, linking, bridge, Discord adapter) from the config that
// Env.ConfigYAML returns, exactly as serve does, so the demo exercises the
// same code as production. Nothing here needs a network beyond 127.0.0.1,
// a config file or a credential.
//
// Env and Page are safe for concurrent use; an Env must be closed.
package demo

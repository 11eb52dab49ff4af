// Package loadtest is the load test of the real secondme-bridge binary
// (issue 14): it starts the built binary against the fakes
// (secondme/secondmetest streaming the replies, platforms/discord/discordtest
// with per-route buckets and an optional global limit), links N users
// through /link and the link pages, fires N guild mentions at once (one
// channel each) and reports, from /proc and the fakes, the bridge's CPU
// per upstream delta, its RSS per conversation, first text and
// [DONE]→final p50/p99, Discord requests per reply, 429s, exactness, and
// from its /metrics its budget round trips per platform call and all its
// store round trips per reply.
// In the same run a bare relay (plain net/http: read the same SSE streams,
// post a first and a final message per stream, nothing else) runs in its
// own process against the same fakes, and the bridge's CPU per delta is
// given as a ratio to the relay's, its RSS per stream beside the bridge's.
// Between the two, a bare bot (barebot.go) takes over the gateway from the
// stopped bridge and answers N fresh mentions with the bridge's wire work
// alone (discordgo's gateway and REST client, typing once, first text,
// an edit a second, final edit; no store, budgets or crash records); its
// replies must be exact, and the bridge's CPU per delta is given as a
// ratio to its too: what the engine costs over the least such a bot does.
// The bridge's discord.global_rate is the fake's limit, or, with none, a
// limit out of reach (a bot whose limit was raised), so that it works at
// the relay's pace. The report names the routes of any 429s and the
// busiest second at the fake. Config.Profile saves a CPU profile of
// the bridge during the load, Config.Snapshot its heap profile, goroutine
// dump and /metrics at one moment of it.
//
// The fake Discord sits behind its edge (edge.go): a reverse proxy in a
// process of its own that stamps each call with its arrival, and the fake's
// global limit counts the call at that moment (discordtest.WithEdgeHeader),
// as Discord counts calls where they arrive. The fakes' process is
// saturated by the streams it serves; counted by its handler, calls the
// bridge wrote in time reached the limit bunched, up to 65 in a second.
//
// Config.TLS (cmd/loadtest -tls) puts the fake SecondMe behind an HTTPS
// front of the driver's own (tls.go) and the edge speaks TLS with the same
// certificate: a test CA, HTTP/2 by ALPN, the Discord gateway's address
// rewritten to its wss:// one. The bridge and the relay trust the CA
// through SSL_CERT_FILE and use their ordinary clients, so both speak
// HTTP/2 to SecondMe and Discord's REST API, as against the real services;
// the report counts the front's and the edge's requests by protocol and
// their connections.
//
// The fakes and the driver share one process; the bridge, the bare bot,
// the relay and the edge each run in their own, so /proc and getrusage see only the
// bridge, the bare bot and the relay. The relay, the bare bot and the edge
// are started by re-executing the current binary with RelayEnv, BareBotEnv
// or EdgeEnv set (cmd/loadtest and the package's test call MaybeRelay,
// MaybeBareBot and MaybeEdge first).
package loadtest

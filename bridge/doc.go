// Package bridge is the conversation engine of secondme-bridge: a message
// in from a chat platform, the user's SecondMe avatar's streamed reply out,
// through throttled updates.
//
// Platform adapters call Bridge.HandleEvent (a platforms.Handler) with
// platform-neutral events. The bridge claims every event once in the store
// (so retries and double deliveries give one reply), applies the per-user
// rate limit and the input limit, and queues the message on its
// conversation: one bounded, ordered queue per (platform, user scope,
// channel, thread, user), drained by one goroutine, so replies in one
// conversation never interleave. Across replicas, a store lease with a
// fencing token ("conv:<key>") makes one replica the conversation's writer;
// a replica that finds it held keeps the work queued and polls.
//
// The store is used through composite operations (store.Turns) so that a
// typical chat message costs four round trips: Admit (the dedupe claims
// and the user's rate-limit token), Begin (the lease, the conversation's
// session and the user's link), one in-flight record at the first visible
// text (refreshed every 10 s while the reply streams) and Finish (the
// session saved, the record dropped and the lease freed, fenced, at
// once). The platforms' budgets are extra: one round trip per update
// (store.Budgets.Reserve, all the update's budgets at once).
//
// A reply is streamed from SecondMe (chat/stream with the user's own token,
// the conversation's session id, the configured app id) and rendered by a
// renderer: a typing indicator at once, the first text as soon as the first
// delta arrives, then at most one update per EditInterval per message, each
// carrying the latest text; intermediate updates draw from the platform's
// shared budgets (platforms.Budgeter, kept in the store) and are skipped
// when one is empty or the platform answers 429, while the final text is
// always delivered, split at Markdown-safe boundaries. An intermediate
// update's tokens are reserved shortly before it is due, for the moment it
// is due (budget.go), so that the store round trip is not on its path and
// the tokens are still spent exactly as the shared budget accounted them;
// when store round trips are too slow for that, updates take their tokens
// at their moment instead. Slack-style native
// streams (platforms.Streamer) are used when the adapter allows them.
//
// Crash safety: every admitted message sits in its conversation's durable
// inbox in the store until its turn ends (inbox.go); an in-flight record
// per reply, written ahead and never lagging what is shown, lets another
// process finalize a reply that a crash cut off (recovery.go) without
// taking any text away, and keep its SecondMe session; liveness records
// tell which processes are dead, so their work is taken over at once
// (liveness.go).
//
// Commands (link, unlink, new, ask, whoami, memory, note, save, askabout,
// sessions, help) are platform-neutral; every user-facing text is in
// English and Simplified Chinese (i18n.go), chosen from the user's locale.
// The bridge writes all user wording; secondme/ and platforms/ return
// typed errors only.
package bridge

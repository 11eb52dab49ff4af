// Package orphan keeps the SecondMe session of a reply that a crashed
// process left behind (KeepSession): once the sweep has finalized the
// reply, its session becomes the conversation's, under the conversation's
// lease, only while the user is still linked to the account the session
// was issued to, and never over a later turn's session.
//
// It owns no reply, platform or text: the engine's sweep (package bridge)
// finds orphans, finalizes them through the renderer's Outbox and calls
// KeepSession.
package orphan

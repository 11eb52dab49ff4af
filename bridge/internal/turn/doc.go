// Package turn is one question to the avatar and its streamed reply: the
// chat request (session, app id, model, the system prompt of a new
// session), the stream read into the renderer, and the retries before any
// text (once with a new session when the stored one is gone, once with a
// refreshed token, once for a failure that proves SecondMe did not take
// the message). A Stop by the person who asked cancels the stream: the
// reply ends with the text so far and the stopped notice, and the session
// is kept.
//
// It owns no conversation, lease or queue: the engine (package bridge)
// takes the lease, makes the renderer, fills a Turn and saves its Session
// when Converse returns.
package turn

// Package platformtest is an in-memory fake chat platform for testing the
// bridge without Discord or Slack.
//
// New returns a *Platform: the controller a test holds to inspect and steer
// the fake. The value the bridge gets is p.As(): one fake type behind a thin
// view that is a platforms.Platform and a platforms.CapsReporter, whose Caps
// hold exactly the abilities enabled in Options (Editor, Streamer, Typer,
// Ephemeraler, Deleter, Budgeter, ThreadOpener) and nil for the others, so
// that platforms.ResolveCaps sees an edit-only platform, a streaming
// platform or a send-only one as configured. The view implements no optional
// interface itself: only the resolved Caps expose an ability. *Platform
// deliberately does not implement platforms.Platform, so a test cannot hand
// the bridge the wrong value by mistake.
//
// The fake records every call in order (Calls), keeps the current state of
// every message (Messages: text, edits, deletion, stream state) and the
// events it delivered (Events). It is safe for concurrent use. WaitFor and
// its helpers block until a condition holds, so tests need no sleeps.
//
// OpenThread opens a thread on the target's ReplyTo message and returns
// that message's id as the thread id, as Discord does (CallOpenThread).
//
// Failures are injected with FailNext (429s as *platforms.RateLimitError),
// FailNextWith (any error), a per-call hook (Options.Hook, SetHook) and
// SetStreamUnsupported (a permanent platforms.ErrStreamUnsupported, latched
// like the Slack adapter does). Text longer than Limits.MaxMessageChars gets
// platforms.ErrTooLong. Options.Latency delays every call, and
// Options.MoveOnEdit moves a message to a new ref on every edit, as Discord
// does with interaction responses.
//
// Run stores the bridge's handler and blocks until its context is done;
// Deliver pushes an event into that handler as an adapter would.
// CheckMentions and AssertNoMentions verify that nothing the bridge posted
// could ping anyone.
package platformtest

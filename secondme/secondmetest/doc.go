// Package secondmetest is a fake SecondMe API server for tests: a real
// httptest server on 127.0.0.1 that speaks every endpoint the
// secondme package uses, including the OAuth authorize page.
//
//	s := secondmetest.New(t) // closed by t.Cleanup
//	s.AddUser(secondmetest.User{ID: "42", Name: "Ada"})
//	c := s.Client(secondme.WithAppID("bridge")) // base URL, OAuth creds, authorize URL preset
//	tok := s.IssueToken("42")
//	s.QueueStream(secondmetest.Script{Deltas: []string{"Hi ", "there"}})
//	st, err := c.ChatStream(ctx, tok.AccessToken, secondme.ChatRequest{Message: "hello"})
//
// What it does:
//   - OAuth: GET /oauth/ approves at once (302 to redirect_uri with code and
//     state) or denies (error=access_denied) as decided by
//     SetAuthorizeDecision / NextAuthorize / DenyNextAuthorize; it checks
//     client_id and redirect_uri. The token endpoints accept only forms,
//     check client_id and client_secret, and issue, refresh (rotating or
//     not), expire and revoke tokens; codes are single-use and live 5
//     minutes on the fake clock (Advance).
//   - Every API endpoint checks the Bearer token and the user's scopes
//     (old and new names) and answers in the documented envelope.
//   - chat/stream plays a Script per call (QueueStream, SetStreamHandler,
//     or a deterministic echo): framing with or without blank lines, CRLF,
//     chunking, split lines, delays, holds, event: error, drops, hangs,
//     and HTTP failures. Sessions and their messages are tracked.
//   - QueueResponse injects any reply on any path; SetDelay slows a path.
//   - Every request is recorded (Requests, RequestsTo).
//
// All methods are safe for concurrent use.
package secondmetest

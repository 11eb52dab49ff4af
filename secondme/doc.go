// Package secondme is a typed client for the SecondMe API
// (https://develop-docs.second.me), shaped like go-github.
//
// One *Client serves every user: credentials are passed per call, as the
// OAuth access token (lba_at_…) or a legacy personal API key (lba_ak_…),
// and sent as a Bearer token. Every call takes ctx first.
//
//	c, err := secondme.NewClient(
//		secondme.WithOAuth(clientID, clientSecret, ""),
//		secondme.WithAppID("secondme-bridge"),
//	)
//	url := c.AuthorizeURL(redirectURI, state)
//	tok, err := c.ExchangeCode(ctx, code, redirectURI)
//	me, err := c.UserInfo(ctx, tok.AccessToken)
//
// # Errors
//
// The API answers errors in several shapes (the envelope with subCode or
// error_code, FastAPI {"detail": …}, and error envelopes with HTTP 200).
// All become *APIError. Classify them with IsTokenInvalid,
// IsRelinkRequired, MissingScope, RetryAfter, IsRetryable, IsNotFound,
// IsSessionInvalid and IsOperatorProblem rather than by matching codes.
// Requests rejected before sending return *ValidationError. No error string
// ever contains a token, authorization code, client secret or state: values
// sent by the caller and anything shaped like a SecondMe credential are
// redacted from server messages.
//
// # Streaming
//
// ChatStream returns a *Stream, an iterator in the style of bufio.Scanner:
//
//	st, err := c.ChatStream(ctx, token, secondme.ChatRequest{Message: "hi"})
//	if err != nil { … }
//	defer st.Close()
//	for st.Next() {
//		ev := st.Current()
//		switch ev.Type { case secondme.EventDelta: … }
//	}
//	err = st.Err() // nil only after [DONE]
//
// The stream parser treats every data: line as one event (the live API
// sends consecutive data: lines without blank lines), has no line-length
// limit below 16 MiB, and decodes the common delta shape without
// encoding/json.
//
// # Tests
//
// Package secondmetest is a fake SecondMe server for tests of this package
// and of its users.
package secondme

// Package reqdeadline enforces an HTTP client's whole-request timeout
// through each request's context instead of http.Client.Timeout.
//
// net/http applies Client.Timeout cheaply only when the client's transport
// is an *http.Transport. Over any wrapper (a metrics transport, an API URL
// rewriter, a connection gate) it falls back to the legacy
// Request.Cancel channel: a goroutine with a timer per request in the
// client, and another per request in the transport waiting on the channel.
// Under load that is two more goroutine stacks for every platform call in
// flight. A context deadline costs a timer and no goroutine.
package reqdeadline

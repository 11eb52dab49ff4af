// Package render shows one avatar reply on a platform while it streams and
// brings it to its final state: the Renderer accumulates the upstream text
// (Add), a flusher turns it into platform updates at most once per edit
// interval per message (flush.go: a goroutine only while it works, a timer
// between its steps; a first message, then edits of a preview,
// or appends to a native stream, rolling over to new messages before the
// platform's limit), Finish delivers the whole text with any notice, and
// Fail tells the user why there is no reply. It keeps the reply's crash
// record (the in-flight record, written ahead, with every update's
// reservation, as a heartbeat, and with the final messages still to show
// before they are delivered, which the Outbox shows for an orphan cut off
// in its final) through Env.PutRecord, and the typing
// indicator, renewed while the reply waits for its first budget (each
// renewal taking its tokens at budget.ClassTyping), until the first text
// is sent; the renewals run on the process's typist (Env.Typist,
// bridge/internal/typist), not on a goroutine of each reply. Every message of the reply carries the persona the engine set
// (SetPersona: platforms.Message.As, StartStreamAs), which the in-flight
// record keeps for the final edit of an orphan.
//
// A Renderer owns only its reply: its text, its messages, its back-off and
// its record. It paces itself through the Pacer (bridge/budget) and reaches
// the engine only through the functions in Env; it never touches
// conversations, leases, queues or links, and it never reads a platform's
// abilities but through the platforms.Caps it is given.
package render

// Package keyq is a keyed serial queue with a bound: functions submitted
// under one key run one at a time, in submission order, each key on its own
// goroutine (which exits when the key's queue is empty), while different
// keys run concurrently. The platform adapters key incoming events by
// channel (Discord) or by user (Slack), so that one conversation's messages
// reach the bridge in order and a slow one never delays another.
//
// The queue holds at most a fixed number of functions not yet finished
// (queued or running), across all keys. At the bound the caller chooses:
//
//   - Submit waits for room (back-pressure), until its context ends or the
//     queue is closed. The Discord adapter uses it: gateway events are not
//     redelivered, so an event must never be dropped; waiting pauses the
//     gateway reader, and the events wait in the connection instead of in
//     memory.
//   - TrySubmit refuses at once with ErrFull. The Slack adapter uses it
//     before acknowledging an event: an unacknowledged event is retried by
//     Slack, so refusing it loses nothing.
//
// Close refuses new work (ErrClosed), wakes the waiting Submit calls and
// waits for every queued function to finish; no goroutine outlives it.
package keyq

// Package lease is a conversation's store lease as its worker holds it
// for one turn: Begin takes it (polling, with jitter, while another
// replica holds it) and reads what the turn needs in the same round trip
// (store.Turns.Begin), a timer extends it every TTL/3 and notices when it
// is lost, and Finish saves the session, drops the reply's record and
// frees the lease at once, fenced, so that a stale holder never overwrites
// a newer session. It touches only the lease, the conversation record and
// the finished reply's record and inbox entry; the queue, the reply and
// the recovery sweep are the engine's.
package lease

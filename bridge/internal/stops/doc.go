// Package stops is how a streaming reply is stopped: the Stop button's id
// (ID, Owns), the conversation id a native stop names (ConvID), the
// replies streaming in this process (Registry), and the watch of the
// store's announcements that reaches a reply streaming on another replica
// (Watch).
//
// A reply's Stop id names the reply and binds it to the person it answers,
// so any replica can tell the owner's click from anyone else's without a
// store read. A click by the owner cancels the reply's stream directly
// when it runs in this process; otherwise the engine records the request
// (store.Cancels.Request), which the store announces to every replica;
// each process holds one Watch, so that stopping costs no store round trip
// while nobody stops anything.
//
// It owns no conversation, platform or text: the engine (package bridge)
// decides who may stop what and tells users.
package stops

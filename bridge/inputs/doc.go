// Package inputs turns what a chat message carries besides its text (the
// files the adapters read, the messages it forwards or replies to) into
// the prompt the avatar is asked: each part labelled, names made unable to
// fake a label, quotes cut at the input limit. It also words the private
// notice naming the files that were not sent and counts attachments by
// outcome.
//
// It owns no state and must not touch conversations, stores or platforms:
// the engine (package bridge) calls Compose at admission, before the
// message enters its durable inbox, so a message adopted by another
// replica keeps its inputs.
package inputs

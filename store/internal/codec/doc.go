// Package codec holds what the store backends share: the encoding of keys
// into strings, the at-rest record of a Link (tokens sealed with
// store.Sealer), and argument checks. It is internal to store/.
//
// Key parts are query-escaped (url.QueryEscape), so an encoded part only
// holds [A-Za-z0-9-_.~%+]: never ':' (the separator), '{' or '}' (Redis
// hash-tag delimiters). Distinct keys therefore never collide, and a user's
// encoding followed by ':' is a prefix of exactly that user's conversations.
package codec

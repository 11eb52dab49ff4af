// Package format holds the bridge's pure text functions for chat output:
// splitting a finished reply into platform-sized messages (Split, with its
// inverse Join for tests), rendering an interim streaming preview (Preview,
// Heal) and making mentions inert (NeutralizeMentions). Nothing here does
// I/O or keeps state; every function is safe for concurrent use.
//
// Lengths are counted in Unicode code points (RuneLen), as Discord and Slack
// count them. Markdown code fences are recognized line by line, CommonMark
// style: a line whose first non-blank characters are three or more
// backticks opens a fence (the rest of the line, without backticks, is the
// info string, usually a language), and a later line of at least as many
// backticks and nothing else closes it. Tilde fences are not recognized:
// Discord does not render them.
package format

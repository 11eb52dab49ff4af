package platforms

// Inputs is what an incoming message carries besides its own text: files
// attached to it and messages it quotes (Event.Inputs). The bridge composes
// them into the prompt, each labelled, and tells the user privately about
// every attachment that was not read.
type Inputs struct {
	Attachments []Attachment
	Quotes      []Quote
}

// Attachment is a file attached to a message. Adapters download only text
// files (text/*, .md, .txt, .csv, .json, source code), only from the
// platform's own file hosts, and at most a configured number of bytes.
type Attachment struct {
	Name        string // the file name as the user sent it
	ContentType string // as the platform reports it ("" when it does not)
	Size        int64  // bytes, as the platform reports it
	// Text is the file's text when it was read (NotRead == ""), cut at the
	// bound when Truncated.
	Text      string
	Truncated bool
	// NotRead says why the file was not read, or "" when it was.
	NotRead NotReadReason
}

// NotReadReason is why an attachment was not read.
type NotReadReason string

// Reasons an attachment was not read.
const (
	// NotReadType: not a text file (an image, audio, a binary document).
	NotReadType NotReadReason = "type"
	// NotReadHost: its URL is not on the platform's own file hosts; the
	// adapter refused to fetch it.
	NotReadHost NotReadReason = "host"
	// NotReadFailed: the download failed or the content is not UTF-8 text.
	NotReadFailed NotReadReason = "failed"
	// NotReadLimit: more attachments than the adapter reads per message.
	NotReadLimit NotReadReason = "limit"
)

// Quote is another message an incoming message brings along as context: a
// forwarded message, or the message it replies to when that is someone
// else's (not the bridge's).
type Quote struct {
	Kind QuoteKind
	// Author is the quoted message's author's display name ("" when the
	// platform does not say, as for Discord forwards).
	Author string
	Text   string
}

// QuoteKind says how a message was quoted.
type QuoteKind string

// Quote kinds.
const (
	QuoteForward QuoteKind = "forward"
	QuoteReply   QuoteKind = "reply"
)

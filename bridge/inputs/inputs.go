package inputs

import (
	"fmt"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// The labels of a message's inputs in the prompt. They are read by the
// avatar, not shown to users, so they are not in the catalog.
const (
	labelForward   = "[Forwarded message]"
	labelReply     = "[Message being replied to, from %s]"
	labelReplyAnon = "[Message being replied to]"
	labelFile      = "[Attached file: %s]"
	labelFileCut   = "[%s was cut at the bridge's size limit; the rest of the file was not sent]"
	labelQuoteCut  = "[the quoted message was cut here]"
	labelMessage   = "[The user's message]"
)

// Compose returns the text sent to the avatar for question (the
// user's own text, already checked against bridge.max_input_chars) and
// the inputs the message carries: each quoted message, labelled with how
// it was quoted and its author and cut at maxQuote code points; each file
// that was read, labelled with its name, with a note when it was cut at
// bridge.max_attachment_bytes (the adapters' bound); then the user's text,
// labelled only when something came before it. Files that were not read
// are not mentioned to the avatar (the user is told: NotReadNotice). The
// result is "" when there is nothing to send.
func Compose(question string, in platforms.Inputs, maxQuote int) string {
	var parts []string
	for _, q := range in.Quotes {
		body := strings.TrimSpace(q.Text)
		if body == "" {
			continue
		}
		if format.RuneLen(body) > maxQuote {
			body = cutRunes(body, maxQuote) + "\n" + labelQuoteCut
		}
		parts = append(parts, quoteLabel(q)+"\n"+body)
	}
	for _, a := range in.Attachments {
		if a.NotRead != "" || strings.TrimSpace(a.Text) == "" {
			continue
		}
		part := fmt.Sprintf(labelFile, fileName(a)) + "\n" + strings.TrimRight(a.Text, "\n")
		if a.Truncated {
			part += "\n" + fmt.Sprintf(labelFileCut, fileName(a))
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return question
	}
	if question != "" {
		parts = append(parts, labelMessage+"\n"+question)
	}
	return strings.Join(parts, "\n\n")
}

// quoteLabel is the label of a quoted message.
func quoteLabel(q platforms.Quote) string {
	switch {
	case q.Kind == platforms.QuoteForward:
		return labelForward
	case labelText(q.Author) != "":
		return fmt.Sprintf(labelReply, labelText(q.Author))
	}
	return labelReplyAnon
}

// fileName is how an attachment is named: its name, or "a file".
func fileName(a platforms.Attachment) string {
	if n := labelText(a.Name); n != "" {
		return n
	}
	return "a file"
}

// labelText is a name as it may stand inside a label: on one line, without
// brackets (a name cannot close its label and open another), at most
// maxLabelName code points.
func labelText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '[' || r == ']' {
			return -1
		}
		return r
	}, s)
	return cutRunes(strings.Join(strings.Fields(s), " "), maxLabelName)
}

// maxLabelName bounds a file or author name in a label.
const maxLabelName = 200

// NotReadNotice is the private notice telling the user which attachments
// were not sent to the avatar and why, one line each ("" when all were
// read).
func NotReadNotice(l text.Lang, in platforms.Inputs) string {
	var lines []string
	for _, a := range in.Attachments {
		if a.NotRead == "" {
			continue
		}
		lines = append(lines, text.T(l, text.MsgInputNotRead, fileName(a), text.T(l, reasonKey(a.NotRead))))
	}
	return strings.Join(lines, "\n")
}

// knownReason is r, or NotReadFailed for a reason this version does not
// know (the metric's labels stay bounded).
func knownReason(r platforms.NotReadReason) platforms.NotReadReason {
	switch r {
	case platforms.NotReadType, platforms.NotReadHost, platforms.NotReadLimit:
		return r
	}
	return platforms.NotReadFailed
}

// reasonKey is the catalog key explaining a reason a file was not read.
func reasonKey(r platforms.NotReadReason) text.Key {
	switch r {
	case platforms.NotReadType:
		return text.MsgInputReasonType
	case platforms.NotReadHost:
		return text.MsgInputReasonHost
	case platforms.NotReadLimit:
		return text.MsgInputReasonLimit
	}
	return text.MsgInputReasonFail
}

// Count counts the attachments of an admitted message by
// outcome.
func Count(m *metrics.Set, in platforms.Inputs) {
	for _, a := range in.Attachments {
		outcome := metrics.AttachRead
		switch {
		case a.NotRead != "":
			outcome = "not_read_" + string(knownReason(a.NotRead))
		case a.Truncated:
			outcome = metrics.AttachTruncated
		}
		m.Attachments.WithLabelValues(outcome).Inc()
	}
}

// cutRunes returns s cut to at most n code points.
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

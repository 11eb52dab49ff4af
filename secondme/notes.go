package secondme

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const pathNoteAdd = "/api/secondme/note/add"

// NoteType is the memoryType of note/add.
type NoteType string

// Note types.
const (
	NoteText NoteType = "TEXT"
	NoteLink NoteType = "LINK"
)

// Limits of note/add, checked before sending.
const (
	MaxNoteContentRunes = 50000
	MaxNoteTitleRunes   = 200
	MaxNoteURLs         = 10
)

// Note is a note for note/add. An empty Type means NoteText. TEXT needs
// Content; LINK needs 1–10 absolute http(s) URLs.
type Note struct {
	Type    NoteType
	Content string
	Title   string
	URLs    []string
}

// Validate checks the documented limits: content required for TEXT and at
// most 50,000 characters, title at most 200, LINK with 1–10 http(s) URLs.
func (n Note) Validate() error {
	typ := n.Type
	if typ == "" {
		typ = NoteText
	}
	if typ != NoteText && typ != NoteLink {
		return &ValidationError{Field: "memoryType", Problem: "must be TEXT or LINK"}
	}
	if typ == NoteText && isBlank(n.Content) {
		return &ValidationError{Field: "content", Problem: "is required for TEXT notes"}
	}
	if c := utf8.RuneCountInString(n.Content); c > MaxNoteContentRunes {
		return &ValidationError{Field: "content", Problem: "has " + strconv.Itoa(c) + " characters, more than " + strconv.Itoa(MaxNoteContentRunes)}
	}
	if c := utf8.RuneCountInString(n.Title); c > MaxNoteTitleRunes {
		return &ValidationError{Field: "title", Problem: "has " + strconv.Itoa(c) + " characters, more than " + strconv.Itoa(MaxNoteTitleRunes)}
	}
	if typ == NoteLink {
		if len(n.URLs) == 0 {
			return &ValidationError{Field: "urls", Problem: "are required for LINK notes"}
		}
		if len(n.URLs) > MaxNoteURLs {
			return &ValidationError{Field: "urls", Problem: "more than " + strconv.Itoa(MaxNoteURLs)}
		}
		for i, raw := range n.URLs {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return &ValidationError{Field: "urls[" + strconv.Itoa(i) + "]", Problem: "is not an absolute http(s) URL"}
			}
		}
	}
	return nil
}

// AddNote creates a note and returns its ID (scope note.add, newer
// note.write). The endpoint has been "temporarily unavailable, to be
// deprecated" since 2026-02-24; prefer AddKeyMemory. Limits are checked
// before sending (*ValidationError).
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/secondme
func (c *Client) AddNote(ctx context.Context, token string, n Note) (int64, error) {
	if err := n.Validate(); err != nil {
		return 0, err
	}
	if n.Type == "" {
		n.Type = NoteText
	}
	body := struct {
		Content    string   `json:"content,omitempty"`
		Title      string   `json:"title,omitempty"`
		URLs       []string `json:"urls,omitempty"`
		MemoryType NoteType `json:"memoryType"`
	}{n.Content, n.Title, n.URLs, n.Type}
	var w struct {
		NoteID flexInt `json:"noteId"`
	}
	ac := apiCall{method: http.MethodPost, path: pathNoteAdd, token: token, json: body}
	if _, err := c.do(ctx, ac, &w); err != nil {
		return 0, err
	}
	return w.NoteID.V, nil
}

func isBlank(s string) bool {
	return strings.TrimFunc(s, unicode.IsSpace) == ""
}

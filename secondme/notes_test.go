package secondme_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestNoteValidate(t *testing.T) {
	t.Parallel()
	urls := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "https://example.com/a"
		}
		return out
	}
	tests := []struct {
		name  string
		note  secondme.Note
		field string // "" = valid
	}{
		{"text", secondme.Note{Content: "hello", Title: "t"}, ""},
		{"text max", secondme.Note{Content: strings.Repeat("字", secondme.MaxNoteContentRunes), Title: strings.Repeat("题", secondme.MaxNoteTitleRunes)}, ""},
		{"text empty", secondme.Note{Type: secondme.NoteText, Content: "  "}, "content"},
		{"text too long", secondme.Note{Content: strings.Repeat("a", secondme.MaxNoteContentRunes+1)}, "content"},
		{"title too long", secondme.Note{Content: "x", Title: strings.Repeat("a", secondme.MaxNoteTitleRunes+1)}, "title"},
		{"link", secondme.Note{Type: secondme.NoteLink, URLs: urls(10)}, ""},
		{"link without urls", secondme.Note{Type: secondme.NoteLink}, "urls"},
		{"link too many", secondme.Note{Type: secondme.NoteLink, URLs: urls(11)}, "urls"},
		{"link relative", secondme.Note{Type: secondme.NoteLink, URLs: []string{"https://ok.example", "/relative"}}, "urls[1]"},
		{"link ftp", secondme.Note{Type: secondme.NoteLink, URLs: []string{"ftp://x.example/"}}, "urls[0]"},
		{"link no host", secondme.Note{Type: secondme.NoteLink, URLs: []string{"https:///path"}}, "urls[0]"},
		{"unknown type", secondme.Note{Type: "VIDEO", Content: "x"}, "memoryType"},
	}
	for _, tc := range tests {
		err := tc.note.Validate()
		var ve *secondme.ValidationError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field):
			t.Errorf("%s: err = %v, want field %s", tc.name, err, tc.field)
		}
	}
}

func TestAddNote(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s, "note.add")
	id, err := c.AddNote(t.Context(), tok, secondme.Note{Content: "learned async", Title: "notes"})
	if err != nil || id == 0 {
		t.Fatalf("AddNote = %d, %v", id, err)
	}
	id2, err := c.AddNote(t.Context(), tok, secondme.Note{Type: secondme.NoteLink, URLs: []string{"https://example.com/article"}, Title: "read"})
	if err != nil || id2 == id {
		t.Fatalf("AddNote link = %d, %v", id2, err)
	}
	reqs := s.RequestsTo(secondmetest.PathNoteAdd)
	want := []map[string]any{
		{"content": "learned async", "title": "notes", "memoryType": "TEXT"},
		{"urls": []any{"https://example.com/article"}, "title": "read", "memoryType": "LINK"},
	}
	for i, r := range reqs {
		if diff := cmp.Diff(want[i], r.JSON); diff != "" {
			t.Errorf("body %d (-want +got):\n%s", i, diff)
		}
	}
	if n := len(s.Notes("42")); n != 2 {
		t.Errorf("stored %d notes", n)
	}
	if _, err := c.AddNote(t.Context(), tok, secondme.Note{}); err == nil {
		t.Error("empty note accepted")
	}
	if n := len(s.RequestsTo(secondmetest.PathNoteAdd)); n != 2 {
		t.Errorf("invalid note was sent (%d requests)", n)
	}
	// Deprecated endpoint answering an error envelope with HTTP 200.
	s.QueueResponse(secondmetest.PathNoteAdd, secondmetest.JSONResponse(200, map[string]any{"code": 503, "message": "temporarily unavailable"}))
	if _, err := c.AddNote(t.Context(), tok, secondme.Note{Content: "x"}); !secondme.IsRetryable(err) {
		t.Errorf("unavailable: %v", err)
	}
	s.SetScopes("42", "chat")
	if _, err := c.AddNote(t.Context(), tok, secondme.Note{Content: "x"}); err == nil {
		t.Error("note without scope accepted")
	} else if scope, ok := secondme.MissingScope(err); !ok || scope != "note.write" {
		t.Errorf("MissingScope = %q %v", scope, ok)
	}
}

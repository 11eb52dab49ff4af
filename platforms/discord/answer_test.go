package discord

import (
	"strings"
	"testing"
)

// Only the id of a created message is read; anything else in the answer
// is skipped, and an answer without a usable id is a clear error.
func TestCreatedID(t *testing.T) {
	t.Parallel()
	whole := `{"id":"123","channel_id":"9","author":{"id":"1","username":"bot","bot":true},` +
		`"content":"hi <@&5>","mentions":[],"embeds":[{"type":"rich","fields":[{"name":"a","value":"b"}]}],` +
		`"components":[{"type":1,"components":[{"type":2,"style":4,"label":"Stop","custom_id":"x"}]}],"flags":0,"tts":false}`
	if id, err := createdID("send", []byte(whole)); err != nil || id != "123" {
		t.Fatalf("createdID(whole message) = %q, %v", id, err)
	}
	for _, bad := range []string{
		``, `null`, `{}`, `{"id":""}`, `{"id":123}`, `[]`, `{"id":"1"`, `<html>502</html>`,
		`{"id":"` + strings.Repeat("9", 1<<16) + `"` + strings.Repeat(" ", 3) + `,}`,
	} {
		id, err := createdID("send discord message", []byte(bad))
		if err == nil {
			t.Errorf("createdID(%.40q) = %q, want an error", bad, id)
			continue
		}
		if !strings.HasPrefix(err.Error(), "send discord message: ") {
			t.Errorf("createdID(%.40q): error %q does not say which call", bad, err)
		}
	}
	if err := checkAnswer("edit", nil); err != nil {
		t.Errorf("an empty edit answer: %v", err)
	}
	if err := checkAnswer("edit", []byte(whole)); err != nil {
		t.Errorf("a whole message as edit answer: %v", err)
	}
	if err := checkAnswer("edit discord message", []byte("{oops")); err == nil || !strings.HasPrefix(err.Error(), "edit discord message: ") {
		t.Errorf("a broken edit answer: %v", err)
	}
}

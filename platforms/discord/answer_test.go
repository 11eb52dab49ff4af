package discord

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
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

// The Stop row marshals exactly as discordgo's ActionsRow of the button.
func TestStopRowJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []platforms.StopControl{
		{ReplyID: "r1", Label: "Stop"},
		{ReplyID: "a.b-c_9", Label: "停止 \"now\" <&> \u2028"},
	} {
		row := stopRow{stopButton(s)}
		got, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(discordgo.ActionsRow{Components: []discordgo.MessageComponent{stopButton(s)}})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("stop row\n got %s\nwant %s", got, want)
		}
		if row.Type() != discordgo.ActionsRowComponent {
			t.Errorf("type %v", row.Type())
		}
	}
}

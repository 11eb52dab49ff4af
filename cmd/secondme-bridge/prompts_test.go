package main

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
)

// The Slack suggested prompts exist in every catalog and follow the
// user's language.
func TestSlackPromptsLocalized(t *testing.T) {
	t.Parallel()
	for _, c := range i18n.All() {
		for _, k := range slackPromptKeys {
			if !c.Has("slack.prompt_"+k) || !c.Has("slack.prompt_"+k+"_title") {
				t.Errorf("catalog %s lacks slack.prompt_%s", c.Language, k)
			}
		}
	}
	en, zh := slackPrompts("en-US"), slackPrompts("zh-CN")
	if len(en) != 4 || len(zh) != 4 {
		t.Fatalf("prompts: %d en, %d zh; want 4 each (Slack shows at most four)", len(en), len(zh))
	}
	for i := range en {
		if en[i].Title == "" || en[i].Message == "" || en[i] == zh[i] {
			t.Errorf("prompt %d: en %+v, zh %+v: empty or not localized", i, en[i], zh[i])
		}
	}
}

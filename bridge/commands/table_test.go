package commands

import (
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

// TestHelpGenerated: /help, generated from the table, reads as the
// catalog's hand-written list did, in both languages.
func TestHelpGenerated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    text.Lang
		want string
	}{
		{text.EN, "Talk to your own SecondMe avatar: mention me, send me a direct message, or reply in a thread where we're talking.\n• /link: connect your SecondMe account\n• /unlink: disconnect it and forget your conversations here\n• /new: start a new conversation\n• /ask <text>: ask your avatar\n• /whoami: your SecondMe profile\n• /memory <keyword>: search your key memories\n• /note <text>: save a note\n• /sessions: your recent conversations\n• /help: this list\nMessage menu: “Save to SecondMe” and “Ask my avatar about this”."},
		{text.ZH, "与你自己的 SecondMe 分身对话：提及我、给我发私信，或在我们正在对话的话题中回复。\n• /link：绑定你的 SecondMe 账号\n• /unlink：解除绑定并清除这里的对话\n• /new：开始新的对话\n• /ask <内容>：向你的分身提问\n• /whoami：你的 SecondMe 资料\n• /memory <关键词>：搜索你的关键记忆\n• /note <内容>：保存一条笔记\n• /sessions：你最近的对话\n• /help：显示此列表\n消息菜单：“保存到 SecondMe”和“问问我的分身”。"},
	} {
		if got := Help(tc.l); got != tc.want {
			t.Errorf("Help(%s) =\n%s\nwant\n%s", tc.l.Language(), got, tc.want)
		}
	}
}

// TestHelpNamesCommandsForThePlatform: Slack users read "/secondme link",
// zh-CN Discord users the localized names.
func TestHelpNamesCommandsForThePlatform(t *testing.T) {
	t.Parallel()
	slack := platformtest.New(platformtest.Options{Name: "slack", Limits: platforms.Limits{MaxMessageChars: 3900, CommandPrefix: "/secondme "}}).As()
	zhDiscord := platformtest.New(platformtest.Options{Name: "discord", Limits: platforms.Limits{
		MaxMessageChars: 2000, CommandNamesZH: &platforms.CommandNames{"link": "绑定", "unlink": "解绑"},
	}}).As()
	if help := Help(text.Of("zh-CN", zhDiscord)); !strings.Contains(help, "• /绑定：绑定你的 SecondMe 账号") || !strings.Contains(help, "• /解绑：") {
		t.Errorf("zh-CN Discord help names commands wrongly:\n%s", help)
	}
	help := Help(text.Of("", slack))
	if strings.Contains(help, "• /link") || !strings.Contains(help, "• /secondme link") || !strings.Contains(help, "• /secondme unlink") {
		t.Errorf("slack help names commands wrongly:\n%s", help)
	}
}

// TestSpecs: every command reaches the adapters, slash commands by name,
// the message actions with their ids.
func TestSpecs(t *testing.T) {
	t.Parallel()
	specs := Specs()
	if len(specs) != len(Table()) {
		t.Fatalf("%d specs for %d commands", len(specs), len(Table()))
	}
	slash, actions := 0, map[string]string{}
	for _, s := range specs {
		if s.Slash {
			slash++
		}
		if s.Action != "" {
			actions[s.ActionID] = s.Name
		}
	}
	if slash != 9 || actions["save_to_secondme"] != "save" || actions["ask_my_avatar"] != "askabout" {
		t.Errorf("specs: %d slash commands (want 9), actions %v", slash, actions)
	}
}

// TestSpecsMatchTheAdapterFixture: the adapters' tests run on
// platformtest.CommandSpecs, which must be this table's.
func TestSpecsMatchTheAdapterFixture(t *testing.T) {
	t.Parallel()
	got, want := Specs(), platformtest.CommandSpecs()
	if len(got) != len(want) {
		t.Fatalf("%d specs, fixture has %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("spec %d = %+v, fixture %+v", i, got[i], want[i])
		}
	}
}

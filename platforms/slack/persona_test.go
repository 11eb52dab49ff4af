package slack

import (
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

func TestPersonaOnPostUpdateAndStream(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()
	ada := &platforms.Persona{Name: " Ada\n Lovelace ", AvatarURL: "https://cdn.example.com/ada.png"}
	to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1700000000.000001", User: "U1"}

	ref, err := a.Send(ctx, to, platforms.Message{Text: "hi", As: ada})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m, _ := fake.Message(string(ref.Channel), string(ref.ID)); m.Username != "Ada Lovelace" || m.IconURL != ada.AvatarURL {
		t.Errorf("posted as %q / %q", m.Username, m.IconURL)
	}
	if _, err := a.Edit(ctx, ref, platforms.Message{Text: "hi, edited", As: ada}); err != nil {
		t.Fatalf("Edit: %v", err)
	}
	if m, _ := fake.Message(string(ref.Channel), string(ref.ID)); len(m.UpdateUsernames) != 1 || m.UpdateUsernames[0] != "Ada Lovelace" || m.UpdateIconURLs[0] != ada.AvatarURL {
		t.Errorf("update identities = %v / %v", m.UpdateUsernames, m.UpdateIconURLs)
	}

	sref, err := a.StartStreamAs(ctx, to, "Hello", ada)
	if err != nil {
		t.Fatalf("StartStreamAs: %v", err)
	}
	if m, _ := fake.Message(string(sref.Channel), string(sref.ID)); m.Username != "Ada Lovelace" || m.IconURL != ada.AvatarURL || !m.Stream {
		t.Errorf("stream posted as %q / %q (stream %v)", m.Username, m.IconURL, m.Stream)
	}

	// Without a persona (or with an empty name, or a bad picture URL),
	// nothing identity-related is sent.
	plain, err := a.Send(ctx, to, platforms.Message{Text: "bot", As: &platforms.Persona{Name: "  "}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m, _ := fake.Message(string(plain.Channel), string(plain.ID)); m.Username != "" || m.IconURL != "" {
		t.Errorf("empty persona posted as %q / %q", m.Username, m.IconURL)
	}
	if _, err := a.Edit(ctx, plain, platforms.Message{Text: "bot, edited"}); err != nil {
		t.Fatalf("Edit: %v", err)
	}
	if m, _ := fake.Message(string(plain.Channel), string(plain.ID)); m.UpdateUsernames[0] != "" {
		t.Errorf("bot edit carried username %q", m.UpdateUsernames[0])
	}
	bad, err := a.Send(ctx, to, platforms.Message{Text: "x", As: &platforms.Persona{Name: strings.Repeat("n", 100), AvatarURL: "javascript:alert(1)"}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m, _ := fake.Message(string(bad.Channel), string(bad.ID)); len([]rune(m.Username)) != 80 || m.IconURL != "" {
		t.Errorf("long name / bad URL posted as %q / %q", m.Username, m.IconURL)
	}
	sref2, err := a.StartStream(ctx, to, "plain")
	if err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	if m, _ := fake.Message(string(sref2.Channel), string(sref2.ID)); m.Username != "" {
		t.Errorf("plain stream posted as %q", m.Username)
	}
}

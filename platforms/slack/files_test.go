package slack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/attach"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

func TestFilesOfEachKind(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, func(c *Config) { c.MaxAttachmentBytes = 32 })
	a.files = fileAccess{hosts: []string{fake.FileHost()}, allowHTTP: true}
	rec := &recorder{}
	run(t, a, rec)
	fake.WaitConnections(t, 1, 5*time.Second)
	waitReady(t, a)
	foreign := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a host that is not Slack's was contacted")
	}))
	t.Cleanup(foreign.Close)

	big := strings.Repeat("abcdefgh", 10)
	files := []slacktest.File{
		fake.AddFile("notes.md", "text/plain", []byte("# Plan\nship it")),
		fake.AddFile("big.csv", "text/csv", []byte(big)),
		fake.AddFile("photo.png", "image/png", []byte("\x89PNG")),
		{ID: "F9", Name: "evil.txt", Mimetype: "text/plain", Size: 4, URLPrivate: foreign.URL + "/evil.txt"},
	}
	dm := fake.DMChannel("U1")
	ts := fake.NewTS()
	if _, err := fake.SendEvent(t.Context(), slacktest.InnerEvent{
		Type: "message", Subtype: "file_share", User: "U1", Text: "what do you think?", Channel: dm, ChannelType: "im",
		TS: ts, Team: "T1", Files: files,
	}); err != nil {
		t.Fatalf("send event: %v", err)
	}
	ev := rec.wait(t, 1)[0]
	got := ev.Inputs.Attachments
	if ev.Text != "what do you think?" || len(got) != 4 {
		t.Fatalf("event %q with attachments %+v", ev.Text, got)
	}
	if got[0].Text != "# Plan\nship it" || got[0].NotRead != "" {
		t.Errorf("text file = %+v", got[0])
	}
	if got[1].Text != big[:32] || !got[1].Truncated || got[1].Size != int64(len(big)) {
		t.Errorf("oversize file = %+v", got[1])
	}
	if got[2].NotRead != platforms.NotReadType || got[3].NotRead != platforms.NotReadHost {
		t.Errorf("image / foreign = %+v / %+v", got[2], got[3])
	}
	if n := fake.FileDownloads(); n != 2 {
		t.Errorf("downloads = %d, want 2", n)
	}
}

func TestFilesNeedTheBotToken(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	a.files = fileAccess{hosts: []string{fake.FileHost()}, allowHTTP: true}
	f := fake.AddFile("notes.txt", "text/plain", []byte("secret plan"))
	in := []slacktest.File{f}
	got := a.readFiles(t.Context(), "T1", toAttach(in))
	if got[0].Text != "secret plan" {
		t.Fatalf("with the bot token: %+v", got[0])
	}
	// A wrong token gets Slack's login page: not taken for the file.
	a.cfg.BotToken = "xoxb-wrong"
	got = a.readFiles(t.Context(), "T1", toAttach(in))
	if got[0].NotRead != platforms.NotReadFailed || got[0].Text != "" {
		t.Errorf("with a wrong token: %+v", got[0])
	}
	// Production hosts: the fake's URL is refused without a request.
	b, _ := newAdapter(t, fake, nil)
	before := fake.FileDownloads()
	if got := b.readFiles(t.Context(), "T1", toAttach(in)); got[0].NotRead != platforms.NotReadHost || fake.FileDownloads() != before {
		t.Errorf("default hosts: %+v", got[0])
	}
}

// toAttach maps fake files to what eventFiles would give.
func toAttach(fs []slacktest.File) []attach.File {
	out := make([]attach.File, len(fs))
	for i, f := range fs {
		out[i] = attach.File{Name: f.Name, ContentType: f.Mimetype, Size: int64(f.Size), URL: f.URLPrivate}
	}
	return out
}

func TestForwardedMessageIsQuoted(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	a.files = fileAccess{hosts: []string{fake.FileHost()}, allowHTTP: true}
	rec := &recorder{}
	run(t, a, rec)
	fake.WaitConnections(t, 1, 5*time.Second)
	waitReady(t, a)

	plan := fake.AddFile("plan.txt", "text/plain", []byte("ship friday"))
	if _, err := fake.SendEvent(t.Context(), slacktest.InnerEvent{
		Type: "message", User: "U1", Text: "what do you think of this?", Channel: fake.DMChannel("U1"), ChannelType: "im",
		TS: fake.NewTS(), Team: "T1",
		Attachments: []slacktest.Share{
			{IsShare: true, AuthorName: "Bob", Text: "The launch moves to *Friday*, ask <@U7|carol>", Files: []slacktest.File{plan}},
			{AuthorName: "a link preview", Text: "not a message"},
		},
	}); err != nil {
		t.Fatalf("send event: %v", err)
	}
	ev := rec.wait(t, 1)[0]
	q := ev.Inputs.Quotes
	if len(q) != 1 || q[0].Kind != platforms.QuoteForward || q[0].Author != "Bob" || !strings.HasPrefix(q[0].Text, "The launch moves to *Friday*") {
		t.Errorf("quotes = %+v", q)
	}
	if at := ev.Inputs.Attachments; len(at) != 1 || at[0].Text != "ship friday" {
		t.Errorf("forwarded files = %+v", at)
	}
}

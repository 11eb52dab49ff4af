package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// The crash tests run the real binary (built once per test run) as child
// processes and kill them with SIGKILL mid-reply, with the config as
// shipped: no bridge.instance_id, so every process has a random one.

// proc is one bridge process.
type proc struct {
	cmd      *exec.Cmd
	base     string
	instance string
	started  time.Time // just before exec
	mu       sync.Mutex
	lines    []logLine
	exited   chan struct{}
}

type logLine struct {
	at   time.Time
	text string
}

// logs returns the process's stderr so far.
func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

func (p *proc) count(sub string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if strings.Contains(l.text, sub) {
			n++
		}
	}
	return n
}

var instanceRE = regexp.MustCompile(`msg="starting secondme-bridge".* instance=(\S+)`)

// startProc runs the binary with the config at path and waits until it
// is ready. It is killed when the test ends.
func startProc(t *testing.T, path, addr string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bridgeBinary(t), "serve", "--config", path), base: "http://" + addr, exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "SECONDME_BRIDGE_HTTP_LISTEN="+addr)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = io.Discard
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, logLine{at: time.Now(), text: sc.Text()})
			p.mu.Unlock()
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(t) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := instanceRE.FindStringSubmatch(p.logs()); m != nil && p.instance == "" {
			p.instance = strings.Trim(m[1], `"`)
		}
		if p.instance != "" {
			if code, _ := getReadyQuiet(p.base); code == 200 {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("bridge exited before it was ready; logs:\n%s", p.logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge not ready after 60s; logs:\n%s", p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("process %d did not die", p.cmd.Process.Pid)
	}
}

// crashEnv is the fakes and the config shared by the processes of a test.
type crashEnv struct {
	sm   *secondmetest.Server
	dc   *discordtest.Server
	sl   *slacktest.Server // instead of Discord when set
	path string
	cfg  config.Store
}

// newCrashEnv writes a config as shipped (no instance id) for the fakes,
// on bolt in a temporary directory or on Redis under a fresh prefix, and
// links the Discord user to a SecondMe user directly in the store.
func newCrashEnv(t *testing.T, redisURL string) *crashEnv {
	t.Helper()
	return newCrashEnvOn(t, redisURL, false)
}

// newCrashEnvOn is newCrashEnv, on Slack (socket mode, native streams)
// instead of Discord when slack is set.
func newCrashEnvOn(t *testing.T, redisURL string, slack bool) *crashEnv {
	t.Helper()
	return newCrashEnvAs(t, redisURL, slack, "")
}

// newCrashEnvAs is newCrashEnvOn with bridge.reply_as replyAs ("" is bot);
// the SecondMe account has a name ("Ada") and a picture (crashAvatar).
func newCrashEnvAs(t *testing.T, redisURL string, slack bool, replyAs string) *crashEnv {
	t.Helper()
	e := &crashEnv{sm: secondmetest.New(t)}
	if slack {
		e.sl = slacktest.NewServer(t, slacktest.Options{})
	} else {
		e.dc = discordtest.New(t)
	}
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "http:\n  listen: \"127.0.0.1:0\"\n  public_url: \"http://127.0.0.1:9\"\n  shutdown_timeout: 5s\n")
	fmt.Fprintf(&b, "store:\n  path: %q\n  encryption_key: %q\n", filepath.Join(dir, "bridge.db"), testKey)
	e.cfg = config.Store{Driver: config.DriverBolt, Path: filepath.Join(dir, "bridge.db"), EncryptionKey: testKey}
	if redisURL != "" {
		prefix := uniquePrefix(t)
		fmt.Fprintf(&b, "  driver: redis\n  redis_url: %q\n  key_prefix: %q\n", redisURL, prefix)
		e.cfg = config.Store{Driver: config.DriverRedis, RedisURL: config.Secret(redisURL), KeyPrefix: prefix, EncryptionKey: testKey}
	}
	fmt.Fprintf(&b, "secondme:\n  api_url: %q\n  oauth:\n    authorize_url: %q\n    client_id: %q\n    client_secret: %q\n",
		e.sm.BaseURL(), e.sm.AuthorizeURL(), e.sm.ClientID(), e.sm.ClientSecret())
	if slack {
		fmt.Fprintf(&b, "slack:\n  enabled: true\n  bot_token: %q\n  api_url: %q\n  app_token: %q\n",
			e.sl.BotToken(), e.sl.APIURL(), e.sl.AppToken())
	} else {
		fmt.Fprintf(&b, "discord:\n  enabled: true\n  token: %q\n  application_id: %q\n  api_url: %q\n",
			e.dc.Token(), e.dc.AppID(), e.dc.APIURL())
	}
	// The bot's identity, as these tests were written for (replies
	// reference their trigger); TestCrashKill9AvatarReply covers reply_as
	// avatar.
	fmt.Fprintf(&b, "bridge:\n  edit_interval: 100ms\n  reply_as: %s\nlog:\n  level: debug\n", cmp.Or(replyAs, "bot"))
	e.path = writeConfig(t, b.String())

	st, err := openStore(t.Context(), e.cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	key := store.UserKey{Platform: "discord", User: discordtest.DefaultUser.ID}
	if slack {
		key = store.UserKey{Platform: "slack", Workspace: e.sl.TeamID(), User: "U1"}
	}
	e.sm.AddUser(secondmetest.User{ID: "sm-ada", Name: "Ada"})
	tok := e.sm.IssueToken("sm-ada")
	now := time.Now()
	link := store.Link{
		Key: key, SecondMeUserID: "sm-ada", Name: "Ada", AvatarURL: crashAvatar,
		Token: store.Token{
			AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
			Expiry: tok.Expiry, Scopes: tok.Scopes,
		},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := st.Links().PutLink(t.Context(), link); err != nil {
		t.Fatal(err)
	}
	return e
}

// mention posts a mention of the bot by the default user.
func (e *crashEnv) mention(t *testing.T, text string) string {
	t.Helper()
	m, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, discordtest.DefaultUser, text)
	if err != nil {
		t.Fatalf("mention %q: %v", text, err)
	}
	return m.ID
}

// reply waits for the bot's reply to trigger whose text satisfies pred.
func (e *crashEnv) reply(t *testing.T, ctx context.Context, trigger, what string, pred func(string) bool, logs func() string) discordtest.Message {
	t.Helper()
	m, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.ReplyTo == trigger && !m.Deleted && pred(dcVisible(m.Content))
	})
	if err != nil {
		var b strings.Builder
		for _, m := range e.dc.Messages() {
			fmt.Fprintf(&b, "\n  %s reply_to=%s edits=%d %q", m.ID, m.ReplyTo, m.Edits, dcVisible(m.Content))
		}
		t.Fatalf("%s: %v\nbot messages:%s\nlogs:\n%s", what, err, b.String(), logs())
	}
	return m
}

// longestShown is the longest text the message showed (its create and
// edits), ellipsis trimmed.
func longestShown(m discordtest.Message) string {
	best := ""
	for _, h := range append(m.History, m.Content) {
		h = strings.TrimSuffix(dcVisible(h), " …")
		if len(h) > len(best) {
			best = h
		}
	}
	return best
}

// crashAvatar is the SecondMe picture cached with the crash tests' link.
const crashAvatar = "https://cdn.second.me/avatars/ada.png"

const restartNotice = "⚠️ interrupted by a restart — please ask again"

// streamWithHold answers "one" with words that stop after a while (the
// stream then hangs until hold is closed) and anything else with an echo.
func streamWithHold(hold chan struct{}) func(secondmetest.ChatCall) secondmetest.Script {
	return func(c secondmetest.ChatCall) secondmetest.Script {
		if c.Message == "one" {
			var deltas []string
			for i := 1; i <= 40; i++ {
				deltas = append(deltas, fmt.Sprintf("word%d ", i))
			}
			return secondmetest.Script{Deltas: deltas, Delay: 5 * time.Millisecond, Hold: hold, HoldAfter: 11}
		}
		return secondmetest.Script{Deltas: secondmetest.EchoDeltas(c.Message)}
	}
}

// TestCrashKill9OnBolt: with the config as shipped, a bridge killed with
// SIGKILL mid-reply, with two messages queued behind it, is restarted on
// the same bolt file. Within 5 s of the restart the cut-off reply is
// finalized with at least every word it showed plus the notice; the two
// queued messages are answered in order; the conversation answers at once
// (the dead process's lease does not hold it for 45 s).
func TestCrashKill9OnBolt(t *testing.T) {
	t.Parallel()
	e := newCrashEnv(t, "")
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	e.sm.SetStreamHandler(streamWithHold(hold))
	addr := freeAddr(t)
	first := startProc(t, e.path, addr)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	one := e.mention(t, "one")
	e.reply(t, ctx, one, "the first words shown", func(s string) bool { return strings.Contains(s, "word11") }, first.logs)
	two := e.mention(t, "two")
	three := e.mention(t, "three")
	for first.count("message admitted to the inbox") < 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("the queued messages were not admitted; logs:\n%s", first.logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	first.kill(t)
	var shown string
	for _, m := range e.dc.Messages() {
		if m.ReplyTo == one {
			shown = longestShown(m)
		}
	}
	if !strings.Contains(shown, "word11") {
		t.Fatalf("the reply showed %q before the kill", shown)
	}

	second := startProc(t, e.path, freeAddr(t))
	started := second.started // the restart: the new process is executed
	final := e.reply(t, ctx, one, "the cut-off reply finalized", func(s string) bool { return strings.Contains(s, restartNotice) }, second.logs)
	t.Logf("orphan finalized %v after the restart", final.Updated.Sub(started).Round(time.Millisecond))
	if took := final.Updated.Sub(started); took > 5*time.Second {
		t.Errorf("the orphan was finalized %v after the restart, want within 5s", took)
	}
	if got := dcVisible(final.Content); !strings.HasPrefix(got, shown) || !strings.HasSuffix(got, "\n\n"+restartNotice) {
		t.Errorf("finalized reply = %q; want every word it showed (%q) and the notice", got, shown)
	}
	r2 := e.reply(t, ctx, two, "the first queued message answered", func(s string) bool { return s == "echo: two" }, second.logs)
	r3 := e.reply(t, ctx, three, "the second queued message answered", func(s string) bool { return s == "echo: three" }, second.logs)
	if !r2.Created.Before(r3.Created) {
		t.Errorf("queued messages answered out of order: two at %v, three at %v", r2.Created, r3.Created)
	}
	// The lease of the dead process was released: the conversation did
	// not wait for it to expire (45 s).
	t.Logf("first queued message answered %v after the restart", r2.Created.Sub(started).Round(time.Millisecond))
	if took := r2.Created.Sub(started); took > 15*time.Second {
		t.Errorf("the conversation answered %v after the restart; the dead process's lease held it", took)
	}
	var asked, sessions []string
	for _, r := range e.sm.RequestsTo(secondmetest.PathChatStream) {
		m, _ := r.JSON["message"].(string)
		asked = append(asked, m)
		sessions = append(sessions, dcSessionOf(r))
	}
	if got := strings.Join(asked, ","); got != "one,two,three" {
		t.Errorf("SecondMe was asked %q, want one,two,three (each once, in order)", got)
	}
	// The cut-off turn's session is kept: the queued messages continue it.
	if len(sessions) != 3 || sessions[0] != "" || sessions[1] == "" || sessions[2] != sessions[1] {
		t.Errorf("sessions of the chat requests = %q; want the first turn's session continued", sessions)
	}
	four := e.mention(t, "four")
	e.reply(t, ctx, four, "a new message answered", func(s string) bool { return s == "echo: four" }, second.logs)
	metrics := getBody(t, second.base+"/metrics")
	for _, want := range []string{`secondme_bridge_recovered_total{what="reply"} 1`, `secondme_bridge_recovered_total{what="message"} 2`} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// getBody returns the body of a GET.
func getBody(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCrashKill9TwoReplicasOnRedis: two replicas (two processes) share a
// real Redis and the fake Discord; the one answering is killed with
// SIGKILL mid-reply. Within 20 s the survivor finalizes the cut-off reply
// (text kept, notice added) and answers the message that was waiting
// behind it.
func TestCrashKill9TwoReplicasOnRedis(t *testing.T) {
	t.Parallel()
	e := newCrashEnv(t, testRedisURL(t))
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	e.sm.SetStreamHandler(streamWithHold(hold))
	a := startProc(t, e.path, freeAddr(t))
	b := startProc(t, e.path, freeAddr(t))
	both := func() string { return "replica A:\n" + a.logs() + "\nreplica B:\n" + b.logs() }

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	one := e.mention(t, "one")
	e.reply(t, ctx, one, "the first words shown", func(s string) bool { return strings.Contains(s, "word11") }, both)
	two := e.mention(t, "two")
	for a.count("message admitted to the inbox")+b.count("message admitted to the inbox") < 2 {
		select {
		case <-ctx.Done():
			t.Fatalf("the queued message was not admitted; logs:\n%s", both())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Kill the replica streaming the reply (its in-flight record names it).
	st, err := openStore(ctx, e.cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	recs, err := st.Replies().ListReplies(ctx, time.Time{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("in-flight replies = %+v, %v", recs, err)
	}
	victim, survivor := a, b
	if strings.HasPrefix(recs[0].Owner, b.instance+"/") {
		victim, survivor = b, a
	} else if !strings.HasPrefix(recs[0].Owner, a.instance+"/") {
		t.Fatalf("reply owner %q is neither %q nor %q", recs[0].Owner, a.instance, b.instance)
	}
	victim.kill(t)
	killed := time.Now()
	var shown string
	for _, m := range e.dc.Messages() {
		if m.ReplyTo == one {
			shown = longestShown(m)
		}
	}

	final := e.reply(t, ctx, one, "the cut-off reply finalized by the survivor", func(s string) bool { return strings.Contains(s, restartNotice) }, survivor.logs)
	t.Logf("survivor finalized the orphan %v after the kill", final.Updated.Sub(killed).Round(time.Millisecond))
	if took := final.Updated.Sub(killed); took > 20*time.Second {
		t.Errorf("the survivor finalized the orphan %v after the kill, want within 20s", took)
	}
	if got := dcVisible(final.Content); !strings.HasPrefix(got, shown) || !strings.HasSuffix(got, "\n\n"+restartNotice) {
		t.Errorf("finalized reply = %q; want every word it showed (%q) and the notice", got, shown)
	}
	r2 := e.reply(t, ctx, two, "the waiting message answered by the survivor", func(s string) bool { return s == "echo: two" }, survivor.logs)
	t.Logf("survivor answered the waiting message %v after the kill", r2.Created.Sub(killed).Round(time.Millisecond))
	if took := r2.Created.Sub(killed); took > 20*time.Second {
		t.Errorf("the waiting message was answered %v after the kill, want within 20s", took)
	}
	if n := len(e.sm.RequestsTo(secondmetest.PathChatStream)); n != 2 {
		t.Errorf("%d chat requests, want 2 (one, two: each once)", n)
	}
}

// TestCrashKill9SlackNativeStream: on Slack, a bridge killed with SIGKILL
// in the middle of a native stream is restarted on the same bolt file;
// the new process appends the restart notice to the stream and finishes it
// with chat.stopStream (channel and ts are all it needs), so every word
// streamed stays; the message queued behind it is answered.
func TestCrashKill9SlackNativeStream(t *testing.T) {
	t.Parallel()
	e := newCrashEnvOn(t, "", true)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	e.sm.SetStreamHandler(streamWithHold(hold))
	first := startProc(t, e.path, freeAddr(t))

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	one, err := e.sl.Mention(ctx, "U1", slackChannel, "", "one")
	if err != nil {
		t.Fatal(err)
	}
	streamOf := func() (slacktest.Message, bool) {
		for _, m := range e.sl.BotReplies(slackChannel, one.TS) {
			if m.Stream {
				return m, true
			}
		}
		return slacktest.Message{}, false
	}
	waitUntil := func(what string, cond func() bool, logs func() string) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("%s; bot messages: %+v\nlogs:\n%s", what, e.sl.Messages(), logs())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitUntil("no native stream showed the first words", func() bool {
		m, ok := streamOf()
		return ok && strings.Contains(m.Display(), "word11")
	}, first.logs)
	// Asked in the first reply's thread: the same conversation, so it
	// waits behind the held reply. (A second top-level mention is a
	// conversation of its own, answered at once, and a kill in the middle
	// of its own reply finalizes that reply with the notice instead.)
	if _, err := e.sl.Mention(ctx, "U1", slackChannel, one.TS, "two"); err != nil {
		t.Fatal(err)
	}
	waitUntil("the queued message was not admitted", func() bool {
		return first.count("message admitted to the inbox") >= 2
	}, first.logs)
	first.kill(t)
	before, _ := streamOf()
	shown := before.Display()

	second := startProc(t, e.path, freeAddr(t))
	waitUntil("the cut-off stream was not stopped", func() bool {
		m, _ := streamOf()
		return m.Stopped
	}, second.logs)
	after, _ := streamOf()
	if got := after.Display(); !strings.HasPrefix(got, shown) || !strings.HasSuffix(got, "\n\n"+restartNotice) {
		t.Errorf("finished stream = %q; want every word it showed (%q) and the notice", got, shown)
	}
	if n := len(e.sl.Calls("chat.update")); n != 0 {
		t.Errorf("%d chat.update calls: a native stream is finished by appending and stopping", n)
	}
	waitUntil("the queued message was not answered", func() bool {
		for _, m := range e.sl.BotReplies(slackChannel, one.TS) {
			if m.Display() == "echo: two" && (!m.Stream || m.Stopped) {
				return true
			}
		}
		return false
	}, second.logs)
}

// TestCrashKill9DuringFinal: a bridge killed with SIGKILL after the stream
// ended, while its final is refused with 429s (as it would wait for its
// budget under a busy global limit), is restarted on the same store.
// Recovery shows the whole reply, exactly as the final would have, and no
// restart notice: nothing was lost. On bolt and on Redis, for a reply
// that showed its first words (its final edit refused) and for one that
// showed nothing yet (every message refused); on bolt also for the
// avatar's replies (bridge.reply_as avatar: webhook messages under the
// user's name). Before final parts were recorded, recovery showed the
// last preview and the notice, or the notice alone.
func TestCrashKill9DuringFinal(t *testing.T) {
	t.Parallel()
	type route struct{ method, path string }
	routes := map[string]map[bool]route{
		"bot":    {true: {"PATCH", "/channels/{id}/messages/{mid}"}, false: {"POST", "/channels/{id}/messages"}},
		"avatar": {true: {"PATCH", "/webhooks/{id}/{token}/messages/{mid}"}, false: {"POST", "/webhooks/{id}/{token}"}},
	}
	for _, c := range []struct {
		kind, as string
		shown    bool
	}{
		{"bolt", "bot", true}, {"bolt", "bot", false}, {"redis", "bot", true}, {"redis", "bot", false},
		{"bolt", "avatar", true}, {"bolt", "avatar", false},
	} {
		kind, shown := c.kind, c.shown
		name := kind + "/" + c.as + "/nothing_shown"
		if shown {
			name = kind + "/" + c.as + "/first_words_shown"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := ""
			if kind == "redis" {
				url = testRedisURL(t)
			}
			e := newCrashEnvAs(t, url, false, c.as)
			hold := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(hold) }) }
			t.Cleanup(release)
			e.sm.SetStreamHandler(streamWithHold(hold))
			first := startProc(t, e.path, freeAddr(t))

			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			// The bot's messages reply to the mention; the avatar's are
			// webhook messages in its channel (a webhook cannot reply).
			answer := func(trigger, what string, pred func(string) bool, logs func() string) discordtest.Message {
				t.Helper()
				if c.as == "bot" {
					return e.reply(t, ctx, trigger, what, pred, logs)
				}
				m, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
					return m.WebhookID != "" && !m.Deleted && m.ChannelID == discordtest.DefaultChannelID && pred(dcVisible(m.Content))
				})
				if err != nil {
					t.Fatalf("%s: %v\nmessages:%s\nlogs:\n%s", what, err, dcDumpOf(e.dc), logs())
				}
				return m
			}
			method, route := routes[c.as][shown].method, routes[c.as][shown].path
			if !shown {
				e.dc.FailNext(method, route, http.StatusTooManyRequests, 1<<20)
			}
			one := e.mention(t, "one")
			if shown {
				answer(one, "the first words shown", func(s string) bool { return strings.Contains(s, "word11") }, first.logs)
				// From here every edit is refused with a 429: the
				// stream's end and its final edit wait.
				e.dc.FailNext(method, route, http.StatusTooManyRequests, 1<<20)
			}
			release()
			// The final's parts are recorded before it is tried.
			var whole string
			for whole == "" || first.count(`msg="final recorded"`) == 0 {
				for _, c := range e.dc.CallsTo(method, route) {
					body, _ := c.Body.(map[string]any)
					content, _ := body["content"].(string)
					if c.Status == http.StatusTooManyRequests && strings.Contains(content, "word40") && !strings.HasSuffix(content, "…") {
						whole = dcVisible(content)
					}
				}
				select {
				case <-ctx.Done():
					t.Fatalf("the final was never tried; logs:\n%s", first.logs())
				case <-time.After(20 * time.Millisecond):
				}
			}
			first.kill(t)
			e.dc.ClearFaults()
			if n := len(e.dc.RepliesTo(one)); n != map[bool]int{true: 1, false: 0}[shown] {
				t.Fatalf("%d messages answer the mention before the restart", n)
			}

			second := startProc(t, e.path, freeAddr(t))
			final := answer(one, "the cut-off reply finished", func(s string) bool { return s == whole }, second.logs)
			// On bolt the restart knows the file's earlier process is
			// gone; on Redis a process is known gone when its liveness
			// record expires (as in TestCrashKill9TwoReplicasOnRedis).
			within := 5 * time.Second
			if kind == "redis" {
				within = 20 * time.Second
			}
			t.Logf("the reply was finished %v after the restart", final.Updated.Sub(second.started).Round(time.Millisecond))
			if took := final.Updated.Sub(second.started); took > within {
				t.Errorf("the reply was finished %v after the restart, want within %v", took, within)
			}
			if n := len(e.dc.RepliesTo(one)); n != 1 {
				t.Errorf("%d messages answer the mention, want 1", n)
			}
			if c.as == "avatar" && (final.WebhookID == "" || final.Username != "Ada · SecondMe" || final.AvatarURL != crashAvatar) {
				t.Errorf("the finished reply came through webhook %q as %q %q; want the avatar's webhook as Ada · SecondMe", final.WebhookID, final.Username, final.AvatarURL)
			}
			// The conversation goes on.
			two := e.mention(t, "two")
			answer(two, "a new message answered", func(s string) bool { return s == "echo: two" }, second.logs)
			for _, m := range e.dc.Messages() {
				if strings.Contains(dcVisible(m.Content), restartNotice) {
					t.Errorf("a restart notice was shown with a reply that lost nothing: %q", m.Content)
				}
			}
			metrics := getBody(t, second.base+"/metrics")
			if want := `secondme_bridge_recovered_total{what="reply"} 1`; !strings.Contains(metrics, want+"\n") {
				t.Errorf("/metrics lacks %s", want)
			}
		})
	}
}

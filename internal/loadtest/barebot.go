package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// BareBotEnv, set in its environment, makes a binary that calls
// MaybeBareBot the bare bot: it reads a bareSpec on stdin, connects to the
// gateway, writes a line "ready" on stdout, answers spec.N mentions and
// writes a bareResult on stdout.
const BareBotEnv = "SECONDME_BRIDGE_LOADTEST_BAREBOT"

// bareEditEvery is the bare bot's interval between a reply's edits while
// it streams: the bridge's default edit interval.
const bareEditEvery = time.Second

// bareSpec is the bare bot's work: answer a mention in Channels[i] with
// the stream of Tokens[i].
type bareSpec struct {
	N         int
	StreamURL string // SecondMe chat/stream URL
	APIURL    string // Discord REST base (the fake's, through its edge)
	BotToken  string
	Tokens    []string
	Channels  []string
}

// bareResult is what the bare bot measured on itself, from its gateway
// session's READY to the last reply's final edit.
type bareResult struct {
	CPU      time.Duration
	Deltas   int
	Calls    int // Discord REST calls made for the replies, typing included
	Typing   int
	PreRSS   int64
	PeakRSS  int64
	Errors   []string
	Answered int // replies it finished answering (any failure is in Errors)
	// FirstText is mention → first text shown, read by the driver from
	// the fake (not sent by the bare bot).
	FirstText Quantiles `json:"-"`
}

// MaybeBareBot runs the bare bot and exits when BareBotEnv is set;
// otherwise it returns at once. Call it first in main (and TestMain).
func MaybeBareBot() {
	if os.Getenv(BareBotEnv) != "" {
		serveRole("bare bot", runBareBot)
	}
}

// bareBot is the least a streaming Discord bot on discordgo does for a
// mention, the bridge's wire work without its engine: it receives the
// mention on the gateway (and, as every bot in a guild does, the echoes of
// its own messages and edits), shows typing once, reads the user's
// stream, posts the first text at the first delta, edits the message
// with the text so far at most once a bareEditEvery while the stream
// lasts, and edits it to the whole text at [DONE], every call through
// discordgo's REST client as the bridge makes it (no decoding of an
// edit's answer, mentions disabled). It keeps no state besides the reply
// it streams: no store, no budgets, no crash record, no dedupe, no retry.
type bareBot struct {
	spec    bareSpec
	s       *discordgo.Session
	sm      *http.Client
	byChan  map[string]int
	started sync.Map // channel index → struct{}: a mention is answered once
	calls   atomic.Int64
	typing  atomic.Int64
	deltas  atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []string
	done    atomic.Int64
}

// runBareBot connects, writes "ready" to ready, answers spec.N mentions
// and returns what it measured.
func runBareBot(spec bareSpec, ready io.Writer) (bareResult, error) {
	if spec.N < 1 || len(spec.Tokens) != len(spec.Channels) || spec.N > len(spec.Channels) {
		return bareResult{}, fmt.Errorf("bad spec: n=%d, %d tokens, %d channels", spec.N, len(spec.Tokens), len(spec.Channels))
	}
	base, err := url.Parse(strings.TrimSuffix(spec.APIURL, "/") + "/")
	if err != nil {
		return bareResult{}, fmt.Errorf("api url: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = spec.N + 1
	s, err := discordgo.New("Bot " + spec.BotToken)
	if err != nil {
		return bareResult{}, fmt.Errorf("session: %w", err)
	}
	s.Client = &http.Client{Transport: &apiRewriter{from: discordgo.EndpointAPI, to: base.String(), next: tr}}
	s.ShouldRetryOnRateLimit = false // as the bridge's session: a 429 fails the call, and the run
	s.SyncEvents = true              // the handler starts a goroutine for mentions only
	s.LogLevel = discordgo.LogWarning
	s.Identify.Intents = discordgo.IntentGuilds | discordgo.IntentGuildMessages | discordgo.IntentMessageContent
	if st := s.State; st != nil {
		st.TrackMembers, st.TrackPresences, st.TrackVoice, st.TrackEmojis, st.TrackRoles = false, false, false, false, false
		st.MaxMessageCount = 0
	}
	smTr := http.DefaultTransport.(*http.Transport).Clone()
	smTr.MaxIdleConnsPerHost = spec.N + 1
	b := &bareBot{spec: spec, s: s, sm: &http.Client{Transport: secondme.LimitNewConns(smTr, 0)}, byChan: map[string]int{}}
	for i, ch := range spec.Channels {
		b.byChan[ch] = i
	}
	readyCh := make(chan string, 1)
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		select {
		case readyCh <- r.User.ID:
		default:
		}
	})
	var self atomic.Value
	all := make(chan struct{})
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		if id, _ := self.Load().(string); m.Author == nil || m.Author.ID == id || !mentions(m.Message, id) {
			return // its own echo, or not for it
		}
		i, ok := b.byChan[m.ChannelID]
		if !ok {
			return
		}
		if _, dup := b.started.LoadOrStore(i, struct{}{}); dup {
			return
		}
		b.wg.Go(func() {
			b.answer(i, strings.TrimSpace(m.Content[strings.Index(m.Content, ">")+1:]))
			if b.done.Add(1) == int64(spec.N) {
				close(all)
			}
		})
	})
	warm(b.sm, spec.StreamURL)
	if err := s.Open(); err != nil {
		return bareResult{}, fmt.Errorf("open gateway: %w", err)
	}
	defer s.Close()
	select {
	case id := <-readyCh:
		self.Store(id)
	case <-time.After(30 * time.Second):
		return bareResult{}, errors.New("no READY in 30 s")
	}
	pre, _ := procRSS(os.Getpid())
	rss := watchRSS(os.Getpid(), 20*time.Millisecond)
	start := selfCPU()
	if _, err := fmt.Fprintln(ready, "ready"); err != nil {
		rss.Stop()
		return bareResult{}, err
	}
	select {
	case <-all:
		b.wg.Wait()
	case <-time.After(10 * time.Minute):
		// Replies still under way are not waited for: the driver kills
		// this process once it reads the result.
		b.fail(fmt.Errorf("%d of %d replies after 10 minutes", b.done.Load(), spec.N))
	}
	res := bareResult{CPU: selfCPU() - start, Deltas: int(b.deltas.Load()), Calls: int(b.calls.Load()),
		Typing: int(b.typing.Load()), Answered: int(b.done.Load())}
	res.PreRSS, res.PeakRSS = pre, rss.Stop()
	b.mu.Lock()
	res.Errors = b.errs
	b.mu.Unlock()
	return res, nil
}

// mentions reports whether m mentions the user id.
func mentions(m *discordgo.Message, id string) bool {
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return false
}

func (b *bareBot) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) < 10 {
		b.errs = append(b.errs, err.Error())
	}
}

// answer streams reply i to its channel.
func (b *bareBot) answer(i int, message string) {
	ch := b.spec.Channels[i]
	b.calls.Add(1)
	b.typing.Add(1)
	if err := b.s.ChannelTyping(ch); err != nil {
		b.fail(fmt.Errorf("typing %d: %w", i, err))
	}
	body, _ := json.Marshal(map[string]string{"message": message})
	req, err := http.NewRequest(http.MethodPost, b.spec.StreamURL, bytes.NewReader(body))
	if err != nil {
		b.fail(err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+b.spec.Tokens[i])
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.sm.Do(req)
	if err != nil {
		b.fail(fmt.Errorf("stream %d: %w", i, err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.fail(fmt.Errorf("stream %d: status %d", i, resp.StatusCode))
		return
	}
	var (
		text  strings.Builder
		msgID string
		last  time.Time
		shown int
	)
	err = eachDelta(resp.Body, func(delta string) error {
		b.deltas.Add(1)
		text.WriteString(delta)
		switch {
		case msgID == "":
			id, err := b.post(ch, text.String())
			if err != nil {
				return fmt.Errorf("first: %w", err)
			}
			msgID = id
			last, shown = time.Now(), text.Len()
		case time.Since(last) >= bareEditEvery && text.Len() > shown:
			if err := b.edit(ch, msgID, text.String()); err != nil {
				b.fail(fmt.Errorf("edit %d: %w", i, err))
			}
			last, shown = time.Now(), text.Len()
		}
		return nil
	})
	switch {
	case err != nil:
		b.fail(fmt.Errorf("stream %d: %w", i, err))
	case msgID == "":
		b.fail(fmt.Errorf("stream %d ended without a delta", i))
	default:
		if err := b.edit(ch, msgID, text.String()); err != nil {
			b.fail(fmt.Errorf("final %d: %w", i, err))
		}
	}
}

// noMentions keeps the avatar's text from pinging anyone.
var noMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}

// post sends a new message and returns its id, decoding only the id.
func (b *bareBot) post(ch, content string) (string, error) {
	b.calls.Add(1)
	endpoint := discordgo.EndpointChannelMessages(ch)
	raw, err := b.s.RequestWithBucketID(http.MethodPost, endpoint,
		&discordgo.MessageSend{Content: content, AllowedMentions: noMentions}, endpoint)
	if err != nil {
		return "", err
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("message id in %.100q: %v", raw, err)
	}
	return m.ID, nil
}

// edit replaces a message's content, without decoding the answer.
func (b *bareBot) edit(ch, id, content string) error {
	b.calls.Add(1)
	_, err := b.s.RequestWithBucketID(http.MethodPatch, discordgo.EndpointChannelMessage(ch, id),
		&discordgo.MessageEdit{Content: &content, AllowedMentions: noMentions}, discordgo.EndpointChannelMessage(ch, ""))
	return err
}

// apiRewriter sends requests aimed at discordgo's API base to the fake's.
type apiRewriter struct {
	from, to string
	next     http.RoundTripper
}

func (t *apiRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if rest, ok := strings.CutPrefix(r.URL.String(), t.from); ok {
		u, err := url.Parse(t.to + rest)
		if err != nil {
			return nil, fmt.Errorf("rewrite %s: %w", r.URL, err)
		}
		r = r.Clone(r.Context())
		r.URL, r.Host = u, u.Host
	}
	return t.next.RoundTrip(r)
}

// runBareBotProcess runs the bare bot in its own process, fires its
// mentions ("bare i" in channel i) once it is ready and returns what it
// measured.
func runBareBotProcess(ctx context.Context, cfg Config, f *fakes, smUsers []string) (bareResult, error) {
	spec := bareSpec{N: cfg.N, StreamURL: f.smBase + secondmetest.PathChatStream, APIURL: f.dcAPI, BotToken: f.dc.Token()}
	for i, id := range smUsers {
		spec.Tokens = append(spec.Tokens, f.sm.IssueToken(id).AccessToken)
		spec.Channels = append(spec.Channels, channelID(i))
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return bareResult{}, err
	}
	seen := map[string]bool{} // the messages of the bridge's replies
	for _, m := range f.dc.Messages() {
		seen[m.ID] = true
	}
	p, err := startHelper(ctx, cfg.Relay, BareBotEnv, f.caEnv(), in)
	if err != nil {
		return bareResult{}, err
	}
	defer p.kill()
	line, err := p.out.ReadString('\n')
	if err != nil || line != "ready\n" {
		return bareResult{}, fmt.Errorf("loadtest: bare bot not ready (%q, %v): %s", line, err, p.stderr())
	}
	// All at once, as the bridge's.
	fired, err := f.mentionAll(cfg.N, "bare")
	if err != nil {
		return bareResult{}, err
	}
	var res bareResult
	if err := json.NewDecoder(p.out).Decode(&res); err != nil {
		return bareResult{}, fmt.Errorf("loadtest: bare bot result: %w: %s", err, p.stderr())
	}
	if err := p.wait(); err != nil {
		return res, fmt.Errorf("loadtest: bare bot: %w: %s", err, p.stderr())
	}
	if res.Deltas != cfg.N*Deltas || res.Answered != cfg.N || len(res.Errors) > 0 {
		return res, fmt.Errorf("loadtest: the bare bot read %d deltas and finished %d replies, want %d and %d (errors: %v)",
			res.Deltas, res.Answered, cfg.N*Deltas, cfg.N, res.Errors)
	}
	exact, first := bareExact(f, cfg.N, seen, fired)
	if exact != cfg.N {
		return res, fmt.Errorf("loadtest: %d of the bare bot's %d replies are exact", exact, cfg.N)
	}
	res.FirstText = first
	return res, nil
}

// bareExact counts the channels where the bare bot's reply (the bot's
// one message not in seen) shows exactly the streamed text, so that its
// figures are those of the whole work done right, and returns its
// replies' mention (fired) → first text quantiles.
func bareExact(f *fakes, n int, seen map[string]bool, fired []time.Time) (int, Quantiles) {
	want := strings.Join(replyDeltas(), "")
	byChannel := map[string]int{}
	for i := range n {
		byChannel[channelID(i)] = i
	}
	texts := make([]string, n)
	count := make([]int, n)
	var firsts []time.Duration
	for _, m := range f.dc.Messages() {
		if i, ok := byChannel[m.ChannelID]; ok && !seen[m.ID] && !m.Deleted && m.InteractionID == "" && m.Author.ID == f.dc.BotID() {
			texts[i] += m.Content
			count[i]++
			firsts = append(firsts, m.Created.Sub(fired[i]))
		}
	}
	exact := 0
	for i := range n {
		if count[i] == 1 && texts[i] == want {
			exact++
		}
	}
	return exact, quantiles(firsts)
}

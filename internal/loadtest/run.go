package loadtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking/linkingtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Config is one load test run.
type Config struct {
	N          int    // conversations, one channel and one user each
	Store      string // "bolt" or "redis"
	RedisURL   string // for Store "redis"
	GlobalRate int    // the fake's global limit, calls per second; 0: off
	// TLS puts the fakes (SecondMe, Discord's REST and gateway) behind an
	// HTTPS front speaking HTTP/2, as the real services are; the bridge
	// and the relay trust its test CA through SSL_CERT_FILE.
	TLS bool
	// ReplyAs is the bridge's bridge.reply_as: "avatar" (its default: the
	// user's avatar through a channel webhook, whose lookup and creation
	// cost two more bot calls in each new channel) or "bot"; "" keeps the
	// default.
	ReplyAs string
	Binary  string // the built secondme-bridge binary
	Relay   string // the binary to re-execute as the relay (MaybeRelay); default os.Executable
	Timeout time.Duration
	Log     io.Writer // progress lines; default discard
	// Profile, when set, is where a CPU profile of the bridge during the
	// load is written (from its admin listener's /debug/pprof/profile).
	Profile string
	// ProfileFor is how long the profile runs from the mentions; 0: N/50
	// seconds, within 5 to 30.
	ProfileFor time.Duration
	// Snapshot, when set, is a path prefix: SnapshotAfter into the load the
	// bridge's heap profile (Snapshot+".heap") and goroutine dump
	// (Snapshot+".goroutines") and /metrics (Snapshot+".metrics") are saved, to see where memory per
	// conversation goes (taken after the load when it ends sooner; Run
	// returns once it is saved).
	Snapshot      string
	SnapshotAfter time.Duration
}

// Run runs one load test and returns its report. The bridge process is
// killed at the end whatever happens.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	logf := func(format string, a ...any) { fmt.Fprintf(cfg.Log, format+"\n", a...) }

	f, err := startFakes(cfg.N)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	defer os.RemoveAll(dir)
	if cfg.TLS {
		if err := f.frontWithTLS(dir); err != nil {
			return nil, err
		}
	}
	if err := f.withEdge(cfg.Relay); err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("loadtest-%d:", time.Now().UnixNano())
	if cfg.Store == "redis" {
		defer dropKeys(cfg.RedisURL, prefix)
	}
	b, err := startBridge(ctx, cfg, f, dir, prefix)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	logf("bridge pid %d ready (%s store); linking %d users", b.cmd.Process.Pid, cfg.Store, cfg.N)

	smUsers, err := linkAll(ctx, f, cfg.N)
	if err != nil {
		return nil, fmt.Errorf("%w\nbridge log tail:\n%s", err, b.logs.tail(40))
	}
	rep, err := loadBridge(ctx, cfg, f, b, logf)
	if err != nil {
		return nil, fmt.Errorf("%w\nbridge log tail:\n%s", err, b.logs.tail(40))
	}
	// The bridge leaves the gateway to the bare bot, which answers the
	// same users in the same channels without a limit (it does not budget).
	b.stop()
	f.dc.SetGlobalLimit(0) // neither the bare bot nor the relay budgets
	logf("bridge done; bare bot on %d mentions", cfg.N)
	bare, err := runBareBotProcess(ctx, cfg, f, smUsers)
	if err != nil {
		return nil, err
	}
	rep.BareCPUPerDelta = perDelta(bare.CPU, bare.Deltas)
	rep.BareRSSPerReply = max(0, bare.PeakRSS-bare.PreRSS) / int64(cfg.N)
	rep.BareCalls, rep.BareTyping, rep.BareFirstText = bare.Calls, bare.Typing, bare.FirstText
	logf("bare bot done; bare relay on %d streams", cfg.N)
	before, err := f.frontCounts()
	if err != nil {
		return nil, err
	}
	relay, err := runRelayProcess(ctx, cfg, f, smUsers)
	if err != nil {
		return nil, err
	}
	after, err := f.frontCounts()
	if err != nil {
		return nil, err
	}
	rep.RelayFront, rep.Front = after.sub(before), after
	rep.RelayCPUPerDelta = perDelta(relay.CPU, relay.Deltas)
	rep.RelayPreRSS, rep.RelayPeakRSS = relay.PreRSS, relay.PeakRSS
	rep.RelayRSSPerStream = max(0, relay.PeakRSS-relay.PreRSS) / int64(cfg.N)
	rep.RelayErrors = relay.Errors
	return rep, nil
}

func (cfg *Config) check() error {
	switch {
	case cfg.N < 1:
		return fmt.Errorf("loadtest: n must be at least 1, got %d", cfg.N)
	case cfg.Store != "bolt" && cfg.Store != "redis":
		return fmt.Errorf("loadtest: store must be bolt or redis, got %q", cfg.Store)
	case cfg.Store == "redis" && cfg.RedisURL == "":
		return errors.New("loadtest: store redis needs a redis url")
	case cfg.GlobalRate < 0:
		return fmt.Errorf("loadtest: global rate must be 0 (off) or positive, got %d", cfg.GlobalRate)
	case cfg.ReplyAs != "" && cfg.ReplyAs != "avatar" && cfg.ReplyAs != "bot":
		return fmt.Errorf("loadtest: reply-as must be avatar or bot, got %q", cfg.ReplyAs)
	case cfg.Binary == "":
		return errors.New("loadtest: no bridge binary (build it with make build)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Relay == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("loadtest: find the relay binary: %w", err)
		}
		cfg.Relay = exe
	}
	return nil
}

// linkAll links user i (channel i) to SecondMe user "sm-i" through /link
// and the link pages, eight at a time, and returns the SecondMe user ids.
func linkAll(ctx context.Context, f *fakes, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("sm-%d", i)
		f.sm.AddUser(secondmetest.User{ID: ids[i], Name: fmt.Sprintf("Avatar %d", i)})
		// Any user may take any decision: every user gets one account.
		f.sm.NextAuthorize(secondmetest.AuthorizeDecision{UserID: ids[i]})
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := linkOne(ctx, f.dc, i); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return ids, first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func linkOne(ctx context.Context, dc *discordtest.Server, i int) error {
	in, err := dc.SlashCommand(guildID, channelID(i), userFor(i), "link", nil)
	if err != nil {
		return fmt.Errorf("link user %d: /link: %w", i, err)
	}
	orig, err := dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && m.Original && len(m.Buttons) > 0
	})
	if err != nil {
		return fmt.Errorf("link user %d: no link button: %w", i, err)
	}
	page, err := linkingtest.Follow(ctx, orig.Buttons[0].URL)
	if err != nil {
		return fmt.Errorf("link user %d: %w", i, err)
	}
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "is now linked") {
		return fmt.Errorf("link user %d: link page %d: %.300q", i, page.Status, page.Body)
	}
	return nil
}

// loadBridge fires the mentions, waits for every reply to be final and
// exact (or the deadline) and measures.
func loadBridge(ctx context.Context, cfg Config, f *fakes, b *bridgeProc, logf func(string, ...any)) (*Report, error) {
	pid := b.cmd.Process.Pid
	if err := f.dc.WaitQuiet(ctx, time.Second); err != nil {
		return nil, err
	}
	f.dc.SetGlobalLimit(cfg.GlobalRate)
	mark := len(f.dc.Calls())
	front0, err := f.frontCounts()
	if err != nil {
		return nil, err
	}
	preMem, err := procMem(pid)
	if err != nil {
		return nil, err
	}
	budget0, err := budgetCounts(ctx, b.admin)
	if err != nil {
		return nil, err
	}
	peak := watchRSS(pid, 20*time.Millisecond)
	cpu0, err := procCPU(pid)
	if err != nil {
		peak.Stop()
		return nil, err
	}
	profiled := make(chan error, 1)
	if cfg.Profile != "" {
		go func() { profiled <- profile(ctx, b.admin, cfg.Profile, cfg.profileSeconds()) }()
	} else {
		profiled <- nil
	}
	snapped := make(chan error, 1)
	if cfg.Snapshot != "" {
		go func() { snapped <- snapshot(ctx, b.admin, cfg.Snapshot, cfg.SnapshotAfter) }()
	} else {
		snapped <- nil
	}
	fired, err := f.mentionAll(cfg.N, "load")
	if err != nil {
		peak.Stop()
		return nil, err
	}
	logf("%d mentions fired", cfg.N)
	want := strings.Join(replyDeltas(), "")
	exact := waitExact(ctx, f, cfg.N, want)
	_ = f.dc.WaitQuiet(ctx, time.Second) // trailing calls (a last typing, a retry) counted too
	cpu1, err := procCPU(pid)
	peakMem := peak.StopMem()
	if err != nil {
		return nil, err
	}
	budget1, err := budgetCounts(ctx, b.admin)
	if err != nil {
		return nil, err
	}
	if err := <-profiled; err != nil {
		logf("cpu profile: %v", err)
	}
	if err := <-snapped; err != nil {
		return nil, fmt.Errorf("loadtest: snapshot: %w", err)
	}
	rep := measure(f, cfg, mark, fired, want)
	front1, err := f.frontCounts()
	if err != nil {
		return nil, err
	}
	rep.BridgeFront = front1.sub(front0)
	rep.BudgetRoundTrips = budget1.roundTrips - budget0.roundTrips
	rep.BudgetCalls = budget1.calls - budget0.calls
	rep.BudgetLapsed = budget1.lapsed - budget0.lapsed
	rep.BudgetLateSpends = budget1.lateSpends - budget0.lateSpends
	rep.WireHeld = budget1.held - budget0.held
	rep.StoreRoundTrips = budget1.store - budget0.store
	rep.Exact = exact
	rep.CPU = cpu1 - cpu0
	rep.CPUPerDelta = perDelta(rep.CPU, cfg.N*Deltas)
	rep.PreRSS, rep.PeakRSS = preMem.rss, peakMem.rss
	rep.RSSPerConversation = max(0, peakMem.rss-preMem.rss) / int64(cfg.N)
	rep.RSSAnonPerConversation = (peakMem.anon - preMem.anon) / int64(cfg.N)
	rep.RSSFilePerConversation = (peakMem.file - preMem.file) / int64(cfg.N)
	return rep, nil
}

// waitExact polls until every stream has ended and every channel shows
// exactly want, and returns how many do (all of them, unless ctx ended).
func waitExact(ctx context.Context, f *fakes, n int, want string) int {
	for {
		got := 0
		if f.doneCount("load ") == n {
			texts := replyTexts(f.dc, n)
			for _, t := range texts {
				if t == want {
					got++
				}
			}
		}
		if got == n {
			return got
		}
		select {
		case <-ctx.Done():
			return got
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// replyTexts returns, per conversation, the text of the bot's live
// messages in its channel other than interaction responses (a split reply
// joined).
func replyTexts(dc *discordtest.Server, n int) []string {
	out := make([]string, n)
	byChannel := map[string]int{}
	for i := range n {
		byChannel[channelID(i)] = i
	}
	for _, m := range dc.Messages() {
		if i, ok := byChannel[m.ChannelID]; ok && !m.Deleted && m.InteractionID == "" {
			out[i] += m.Content
		}
	}
	return out
}

func perDelta(cpu time.Duration, deltas int) time.Duration {
	if deltas == 0 {
		return 0
	}
	return cpu / time.Duration(deltas)
}

// runRelayProcess runs the bare relay in its own process on fresh streams
// of the same users and channels.
func runRelayProcess(ctx context.Context, cfg Config, f *fakes, smUsers []string) (relayResult, error) {
	spec := relaySpec{
		StreamURL: f.smBase + secondmetest.PathChatStream,
		APIURL:    f.dcAPI, BotToken: f.dc.Token(),
	}
	for i, id := range smUsers {
		spec.Tokens = append(spec.Tokens, f.sm.IssueToken(id).AccessToken)
		spec.Messages = append(spec.Messages, fmt.Sprintf("relay %d", i))
		spec.Channels = append(spec.Channels, channelID(i))
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return relayResult{}, err
	}
	cmd := exec.CommandContext(ctx, cfg.Relay)
	cmd.Env = append(append(os.Environ(), RelayEnv+"=1"), f.caEnv()...)
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return relayResult{}, fmt.Errorf("loadtest: relay: %w: %s", err, stderr.String())
	}
	var res relayResult
	if err := json.Unmarshal(out, &res); err != nil {
		return relayResult{}, fmt.Errorf("loadtest: relay result %.200q: %w", out, err)
	}
	if res.Deltas != len(smUsers)*Deltas {
		return res, fmt.Errorf("loadtest: the relay read %d deltas, want %d (errors: %v)", res.Deltas, len(smUsers)*Deltas, res.Errors)
	}
	return res, nil
}

// newKey returns a base64 store encryption key.
func newKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// unlimitedGlobalRate is the bridge's discord.global_rate when the fake
// enforces no global limit: far above what a run can send.
const unlimitedGlobalRate = 100000

// configYAML is the bridge's config for a run (prefix: the Redis key
// prefix, for store redis).
func configYAML(cfg Config, f *fakes, dir, addr, admin, prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "http:\n  listen: %q\n  admin_listen: %q\n  public_url: %q\n", addr, admin, "http://"+addr)
	if cfg.Store == "redis" {
		fmt.Fprintf(&b, "store:\n  driver: redis\n  redis_url: %q\n  key_prefix: %q\n  encryption_key: %q\n",
			cfg.RedisURL, prefix, newKey())
	} else {
		fmt.Fprintf(&b, "store:\n  driver: bolt\n  path: %s\n  encryption_key: %q\n", filepath.Join(dir, "bridge.db"), newKey())
	}
	fmt.Fprintf(&b, "secondme:\n  api_url: %q\n  oauth:\n    authorize_url: %q\n    client_id: %q\n    client_secret: %q\n",
		f.smBase, f.sm.AuthorizeURL(), f.sm.ClientID(), f.sm.ClientSecret())
	fmt.Fprintf(&b, "discord:\n  enabled: true\n  token: %q\n  application_id: %q\n  api_url: %q\n",
		f.dc.Token(), f.dc.AppID(), f.dcAPI)
	// The bridge budgets for the limit the fake enforces; with none, for
	// a bot whose limit was raised out of reach (as the relay's is), so
	// that both are measured doing the same work at the same pace.
	fmt.Fprintf(&b, "  global_rate: %d\n", cmp.Or(cfg.GlobalRate, unlimitedGlobalRate))
	if cfg.ReplyAs != "" {
		fmt.Fprintf(&b, "bridge:\n  reply_as: %s\n", cfg.ReplyAs)
	}
	b.WriteString("log:\n  level: warn\n")
	return b.String()
}

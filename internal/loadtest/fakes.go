package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Deltas and DeltaGap are the workload of one reply: 50 deltas 20 ms apart.
const (
	Deltas   = 50
	DeltaGap = 20 * time.Millisecond
	guildID  = "900000000000000001"
)

// fakes are the fake SecondMe and Discord of one run, and what they saw.
type fakes struct {
	sm *secondmetest.Server
	dc *discordtest.Server

	// smBase and dcAPI are the URLs the bridge and the relay call: the
	// fake SecondMe's own or its TLS front's (front set, -tls), and the
	// fake Discord's through its edge (edge set).
	smBase, dcAPI string
	front         *tlsFront
	edge          *edgeProc

	mu   sync.Mutex
	done map[string]time.Time // message ("load 17") → when its stream was flushed
}

// caEnv is the environment entry that makes a Go process trust the TLS
// front's CA (none without a front).
func (f *fakes) caEnv() []string {
	if f.front == nil {
		return nil
	}
	return []string{"SSL_CERT_FILE=" + f.front.CAFile}
}

// frontCounts are what the TLS front and the fake Discord's edge served
// so far (zero without a front).
func (f *fakes) frontCounts() (FrontCounts, error) {
	if f.front == nil {
		return FrontCounts{}, nil
	}
	c := f.front.counts()
	if f.edge != nil {
		e, err := f.edge.counts()
		if err != nil {
			return FrontCounts{}, err
		}
		c = FrontCounts{H2: c.H2 + e.H2, H1: c.H1 + e.H1, WS: c.WS + e.WS, Conns: c.Conns + e.Conns}
	}
	return c, nil
}

// frontWithTLS puts the fake SecondMe behind a TLS front (HTTP/2) whose CA
// is written to dir; the fake Discord's edge (withEdge) serves with the
// front's certificate.
func (f *fakes) frontWithTLS(dir string) error {
	front, urls, err := startTLSFront(dir, f.sm.URL)
	if err != nil {
		return err
	}
	f.front = front
	f.smBase = urls[0] + strings.TrimPrefix(f.sm.BaseURL(), f.sm.URL)
	return nil
}

// withEdge puts the fake Discord behind its edge, a process of its own
// started from bin (edge.go): over TLS with the front's certificate when
// there is a front, plain HTTP/1.1 otherwise. The bridge and the relay
// call Discord through it.
func (f *fakes) withEdge(bin string) error {
	var certPEM, keyPEM []byte
	if f.front != nil {
		certPEM, keyPEM = f.front.certPEM, f.front.keyPEM
	}
	e, err := startEdge(bin, f.dc.URL(), certPEM, keyPEM)
	if err != nil {
		return err
	}
	f.edge = e
	f.dcAPI = e.URL + strings.TrimPrefix(f.dc.APIURL(), f.dc.URL())
	return nil
}

// channelID and userFor name conversation i's channel and Discord user.
func channelID(i int) string { return strconv.Itoa(910000000000000000 + i) }

func userFor(i int) discordtest.User {
	return discordtest.User{ID: strconv.Itoa(310000000000000000 + i), Username: fmt.Sprintf("load%d", i)}
}

// replyText is the text of every reply: Deltas words.
func replyDeltas() []string {
	d := make([]string, Deltas)
	for i := range d {
		d[i] = fmt.Sprintf("word%02d ", i)
	}
	return d
}

func startFakes(n int) (*fakes, error) {
	chans := make([]discordtest.Channel, n)
	for i := range chans {
		chans[i] = discordtest.Channel{ID: channelID(i), GuildID: guildID, Name: fmt.Sprintf("c%d", i), Type: discordgo.ChannelTypeGuildText}
	}
	dc, err := discordtest.Start(discordtest.WithEdgeHeader(edgeHeader), discordtest.WithGuild(discordtest.Guild{ID: guildID, Name: "Load Guild", PreferredLocale: discordtest.DefaultLocale, Channels: chans}))
	if err != nil {
		return nil, err
	}
	sm, err := secondmetest.Start(secondmetest.Options{})
	if err != nil {
		dc.Close()
		return nil, err
	}
	f := &fakes{sm: sm, dc: dc, smBase: sm.BaseURL(), dcAPI: dc.APIURL(), done: map[string]time.Time{}}
	deltas := replyDeltas()
	sm.SetStreamHandler(func(c secondmetest.ChatCall) secondmetest.Script {
		msg := strings.TrimSpace(c.Message)
		return secondmetest.Script{Deltas: deltas, Delay: DeltaGap, Done: func(string) {
			f.mu.Lock()
			f.done[msg] = time.Now()
			f.mu.Unlock()
		}}
	})
	// Discord's per-route buckets: 5 a second per channel for new
	// messages, per message for edits.
	dc.RateLimit("POST /channels/{id}/messages", 5)
	dc.RateLimit("PATCH /channels/{id}/messages/{mid}", 5)
	return f, nil
}

func (f *fakes) doneAt(msg string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.done[msg]
	return t, ok
}

func (f *fakes) doneCount(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for m := range f.done {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func (f *fakes) Close() {
	if f.edge != nil {
		f.edge.Close()
	}
	if f.front != nil {
		f.front.Close()
	}
	f.sm.Close()
	f.dc.Close()
}

// mentionAll fires n guild mentions at once, the i-th in channel i from
// user i with the text "<label> i", and returns when each was fired. The
// first failure is returned (every mention is still tried).
func (f *fakes) mentionAll(n int, label string) ([]time.Time, error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	fired := make([]time.Time, n)
	for i := range n {
		wg.Go(func() {
			fired[i] = time.Now()
			if _, err := f.dc.Mention(guildID, channelID(i), userFor(i), fmt.Sprintf("%s %d", label, i)); err != nil {
				errs <- fmt.Errorf("loadtest: %s mention %d: %w", label, i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return fired, <-errs
}

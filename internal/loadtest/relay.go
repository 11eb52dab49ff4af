package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// RelayEnv, set in its environment, makes a binary that calls MaybeRelay
// the bare relay: it reads a relaySpec on stdin, runs it and writes a
// relayResult on stdout.
const RelayEnv = "SECONDME_BRIDGE_LOADTEST_RELAY"

// relaySpec is the relay's work: one SSE stream per token, its first and
// final message posted to the channel of the same index.
type relaySpec struct {
	StreamURL string   // SecondMe chat/stream URL
	Tokens    []string // one access token per stream
	Messages  []string // the message of each stream
	APIURL    string   // Discord REST base
	BotToken  string
	Channels  []string
}

// relayResult is what the relay measured on itself.
type relayResult struct {
	CPU     time.Duration // user + system over the streams
	Deltas  int           // deltas read
	PreRSS  int64         // its RSS before the streams, bytes
	PeakRSS int64         // its highest RSS during them (sampled every 20 ms)
	Errors  []string
}

// MaybeRelay runs the relay and exits when RelayEnv is set; otherwise it
// returns at once. Call it first in main (and TestMain).
func MaybeRelay() {
	if os.Getenv(RelayEnv) != "" {
		serveRole("relay", func(spec relaySpec, _ io.Writer) (relayResult, error) { return runRelay(spec), nil })
	}
}

// serveRole is the process of a helper role (the relay, the bare bot):
// it reads the role's spec as JSON on stdin, runs it (run may write lines
// to stdout before it returns, as the bare bot's "ready"), writes the
// result as JSON on stdout and exits: 0, or 2 with the error on stderr.
func serveRole[S, R any](name string, run func(S, io.Writer) (R, error)) {
	var spec S
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		fmt.Fprintf(os.Stderr, "%s: read spec: %v\n", name, err)
		os.Exit(2)
	}
	res, err := run(spec, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "%s: write result: %v\n", name, err)
		os.Exit(2)
	}
	os.Exit(0)
}

// runRelay reads every stream at once and posts a first message at the
// first delta and the whole text as an edit at [DONE]: nothing else.
func runRelay(spec relaySpec) relayResult {
	// net/http's default transport (HTTP/2 over TLS, as the bridge's),
	// keeping a connection per stream for HTTP/1, behind the same gate on
	// new HTTP/2 connections as the bridge's SecondMe client: without it a
	// burst of streams dials one connection per stream that finds the
	// open ones full, and the relay's floor would include a thousand TLS
	// handshakes the bridge does not make.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = len(spec.Tokens) + 1
	c := &http.Client{Transport: secondme.LimitNewConns(tr, 0)}
	// Connections made before the clock starts, as the bridge's are by
	// the time its load begins: over HTTP/2 the streams then share them
	// instead of each dialling its own in the first burst.
	warm(c, spec.StreamURL, spec.APIURL+"/gateway")
	pre, _ := procRSS(os.Getpid())
	rss := watchRSS(os.Getpid(), 20*time.Millisecond)
	start := selfCPU()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		res relayResult
	)
	for i, tok := range spec.Tokens {
		wg.Go(func() {
			n, err := relayOne(c, spec, tok, spec.Messages[i], spec.Channels[i])
			mu.Lock()
			defer mu.Unlock()
			res.Deltas += n
			if err != nil && len(res.Errors) < 10 {
				res.Errors = append(res.Errors, err.Error())
			}
		})
	}
	wg.Wait()
	res.CPU = selfCPU() - start
	res.PreRSS, res.PeakRSS = pre, rss.Stop()
	return res
}

// warm makes one request to each URL, whatever its answer.
func warm(c *http.Client, urls ...string) {
	for _, u := range urls {
		resp, err := c.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

func relayOne(c *http.Client, spec relaySpec, token, message, channel string) (int, error) {
	ctx := context.Background()
	body, _ := json.Marshal(map[string]string{"message": message})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.StreamURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("stream: status %d", resp.StatusCode)
	}
	var (
		text  strings.Builder
		msgID string
		n     int
	)
	err = eachDelta(resp.Body, func(delta string) error {
		n++
		text.WriteString(delta)
		if msgID != "" {
			return nil
		}
		var m struct {
			ID string `json:"id"`
		}
		if err := discordCall(c, spec, http.MethodPost, "/channels/"+channel+"/messages", text.String(), &m); err != nil {
			return err
		}
		msgID = m.ID
		return nil
	})
	switch {
	case err != nil:
		return n, err
	case msgID == "":
		return n, errors.New("stream ended without a delta")
	}
	return n, discordCall(c, spec, http.MethodPatch, "/channels/"+channel+"/messages/"+msgID, text.String(), nil)
}

// eachDelta reads a SecondMe chat stream (SSE) from r and calls delta
// with the text of each delta, in order. It returns nil at [DONE], the
// first error delta returns, or an error when the stream ends without
// [DONE].
func eachDelta(r io.Reader, delta func(string) error) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			return nil
		}
		if d, ok := secondmetest.DeltaContent([]byte(data)); ok {
			if err := delta(d); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("stream ended without [DONE]")
}

func discordCall(c *http.Client, spec relaySpec, method, path, content string, out any) error {
	body, _ := json.Marshal(map[string]any{"content": content, "allowed_mentions": map[string]any{"parse": []string{}}})
	req, err := http.NewRequest(method, spec.APIURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bot "+spec.BotToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

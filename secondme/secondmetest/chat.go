package secondmetest

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// Script is how the fake answers one chat/stream call. The zero value
// sends a session event (for a new session) and [DONE].
type Script struct {
	Deltas []string // text deltas, one data: line each
	Tools  []Tool   // tool events, sent before the first delta

	SessionID      string // ID announced for a new session ("" = generated labs_sess_N)
	NoSessionEvent bool   // create the session without announcing it

	BlankLines bool          // blank line after each event (default none, as the live API)
	CRLF       bool          // "\r\n" line endings
	NoSpace    bool          // "data:" without the space
	Comments   bool          // ": ping" comment line before each event
	ChunkSize  int           // write (and flush) every ChunkSize bytes; 0 = one write per line
	SplitLines bool          // with ChunkSize 0: write every line in two halves
	Delay      time.Duration // sleep before each write

	Hold      <-chan struct{} // after HoldAfter deltas, wait until Hold is closed
	HoldAfter int

	// How the stream ends after the deltas (default data: [DONE]):
	Error *StreamError // event: error with this data, then a clean end without [DONE]
	Drop  bool         // a clean end without [DONE]
	Abort bool         // the connection is cut (the client sees an unexpected EOF)
	Hang  bool         // nothing more is sent until the client or the server goes away

	// Response replaces the stream: an HTTP failure (429, 5xx) or a JSON
	// error body with status 200.
	Response *Response
	// Raw is sent verbatim instead of generated events (chunking, delays
	// and the end behaviours still apply; no [DONE] is added).
	Raw string

	// Done, when set, is called with the delta text written once the
	// stream's last byte has been flushed (load tests time [DONE] by it).
	Done func(text string)
}

// Tool is a tool_call or tool_result event.
type Tool struct {
	Kind        string // "tool_call" or "tool_result"
	ToolName    string
	Status      string
	Query       string
	ResultCount int
}

// StreamError is the data of an event: error.
type StreamError struct {
	Code    int
	Message string
	SubCode string // omitted when empty
}

// ChatCall is a received chat/stream request, given to a stream handler.
type ChatCall struct {
	UserID          string
	Message         string
	SessionID       string // as requested ("" = new session)
	SystemPrompt    string
	AppID           string // body appId, else X-App-Id, else "general"
	Model           string
	MaxTokens       int
	EnableWebSearch bool
	Header          http.Header
}

// EchoReply is the default reply to message.
func EchoReply(message string) string { return "echo: " + message }

// EchoDeltas is the default reply split after each space.
func EchoDeltas(message string) []string {
	return strings.SplitAfter(EchoReply(message), " ")
}

// QueueStream queues scripts for the next chat/stream calls, in order.
func (s *Server) QueueStream(scripts ...Script) {
	s.mu.Lock()
	s.scripts = append(s.scripts, scripts...)
	s.mu.Unlock()
}

// SetStreamHandler sets the script source used when no script is queued;
// nil restores the echo default. h runs on the request goroutine.
func (s *Server) SetStreamHandler(h func(ChatCall) Script) {
	s.mu.Lock()
	s.streamHandler = h
	s.mu.Unlock()
}

// StreamCount is the number of chat/stream requests received (any outcome).
func (s *Server) StreamCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streamCount
}

var models = []string{"secondme/nano", "secondme/pro"}

func (s *Server) handleChatStream(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.streamCount++
	s.mu.Unlock()
	uid, ok := s.authenticate(w, r, "chat.write", "chat")
	if !ok {
		return
	}
	var body struct {
		Message         *string `json:"message"`
		SessionID       string  `json:"sessionId"`
		SystemPrompt    string  `json:"systemPrompt"`
		AppID           string  `json:"appId"`
		Model           string  `json:"model"`
		MaxTokens       *int    `json:"maxTokens"`
		EnableWebSearch bool    `json:"enableWebSearch"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Message == nil {
		writeMissing(w, "message")
		return
	}
	if body.Model != "" && !slices.Contains(models, body.Model) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{
			{"type": "literal_error", "loc": []string{"body", "model"}, "msg": "Input should be 'secondme/nano' or 'secondme/pro'"},
		}})
		return
	}
	if body.MaxTokens != nil && (*body.MaxTokens < 1 || *body.MaxTokens > secondme.MaxTokensLimit) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{
			{"type": "less_than_equal", "loc": []string{"body", "maxTokens"}, "msg": "Input should be between 1 and " + strconv.Itoa(secondme.MaxTokensLimit)},
		}})
		return
	}
	call := ChatCall{
		UserID: uid, Message: *body.Message, SessionID: body.SessionID, SystemPrompt: body.SystemPrompt,
		AppID: cmp.Or(body.AppID, r.Header.Get("X-App-Id"), "general"), Model: body.Model,
		EnableWebSearch: body.EnableWebSearch, Header: r.Header.Clone(),
	}
	if body.MaxTokens != nil {
		call.MaxTokens = *body.MaxTokens
	}
	sc := s.nextScript(call)
	if sc.Response != nil {
		sc.Response.write(w)
		return
	}
	sessID, isNew, ok := s.openSession(w, call, sc.SessionID)
	if !ok {
		return
	}
	// The reply goes into the history before the stream is written, so a
	// client that has read the end of the stream always finds it there; it
	// is corrected afterwards if less was written (a client gone early).
	intended, msgID := "", ""
	if sc.Raw == "" {
		intended = strings.Join(sc.Deltas, "")
	}
	if intended != "" {
		msgID = s.appendMessage(sessID, "assistant", intended)
	}
	sw := &streamWriter{w: w, r: r, sc: &sc, done: s.done}
	text := sw.run(s.streamBytes(&sc, sessID, isNew))
	if sc.Done != nil {
		sc.Done(text)
	}
	switch {
	case msgID != "" && text != intended:
		s.setAssistantText(sessID, msgID, text)
	case msgID == "" && text != "":
		s.appendMessage(sessID, "assistant", text)
	}
	if sc.Abort {
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) nextScript(call ChatCall) Script {
	s.mu.Lock()
	if len(s.scripts) > 0 {
		sc := s.scripts[0]
		s.scripts = s.scripts[1:]
		s.mu.Unlock()
		return sc
	}
	h := s.streamHandler
	s.mu.Unlock()
	if h != nil {
		return h(call)
	}
	return Script{Deltas: EchoDeltas(call.Message)}
}

// piece is a part of the stream body: bytes, plus the delta text they
// complete (for the session history) or a hold point.
type piece struct {
	b     string
	delta string
	hold  bool
}

// streamBytes renders the script into lines.
func (s *Server) streamBytes(sc *Script, sessID string, isNew bool) []piece {
	nl := "\n"
	if sc.CRLF {
		nl = "\r\n"
	}
	end := nl
	if sc.BlankLines {
		end = nl + nl
	}
	data := "data: "
	if sc.NoSpace {
		data = "data:"
	}
	var out []piece
	add := func(event string, payload any, delta string) {
		if sc.Comments {
			out = append(out, piece{b: ": ping" + nl})
		}
		if event != "" {
			out = append(out, piece{b: "event: " + event + nl})
		}
		var p []byte
		if raw, ok := payload.(string); ok {
			p = []byte(raw)
		} else {
			p, _ = json.Marshal(payload)
		}
		out = append(out, piece{b: data + string(p) + end, delta: delta})
	}
	hold := func(n int) {
		if sc.Hold != nil && sc.HoldAfter == n {
			out = append(out, piece{hold: true})
		}
	}
	if sc.Raw != "" {
		hold(0)
		return append(out, piece{b: sc.Raw})
	}
	if isNew && !sc.NoSessionEvent {
		add("session", map[string]string{"sessionId": sessID}, "")
	}
	for _, t := range sc.Tools {
		add(t.Kind, map[string]any{"toolName": t.ToolName, "status": t.Status, "query": t.Query, "resultCount": t.ResultCount}, "")
	}
	for i, d := range sc.Deltas {
		hold(i)
		add("", map[string]any{"choices": []any{map[string]any{"delta": map[string]string{"content": d}}}}, d)
	}
	hold(len(sc.Deltas))
	switch {
	case sc.Error != nil:
		e := map[string]any{"code": sc.Error.Code, "message": sc.Error.Message}
		if sc.Error.SubCode != "" {
			e["subCode"] = sc.Error.SubCode
		}
		add("error", e, "")
	case sc.Drop, sc.Abort, sc.Hang:
	default:
		add("", "[DONE]", "")
	}
	return out
}

// streamWriter writes pieces with the script's chunking and timing.
type streamWriter struct {
	w     http.ResponseWriter
	r     *http.Request
	sc    *Script
	done  <-chan struct{}
	timer *time.Timer // sleep's, reused (Go 1.23+ timers need no draining)
}

// run writes the pieces and returns the delta text fully written.
func (sw *streamWriter) run(pieces []piece) string {
	h := sw.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	sw.w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(sw.w)
	_ = rc.Flush()
	var text strings.Builder
	// Group pieces between hold points and write each group in writes.
	var group []piece
	flushGroup := func() bool {
		ok := sw.writeGroup(rc, group, &text)
		group = group[:0]
		return ok
	}
	for _, p := range pieces {
		if !p.hold {
			group = append(group, p)
			continue
		}
		if !flushGroup() || !sw.wait(sw.sc.Hold) {
			return text.String()
		}
	}
	if flushGroup() && sw.sc.Hang {
		sw.wait(nil)
	}
	return text.String()
}

// writeGroup writes pieces as one byte sequence cut by ChunkSize (or per
// line, or per half line). A group of one piece (a Raw body) is written
// without a copy, so that thousands of concurrent streams of one Raw body
// cost the server little memory.
func (sw *streamWriter) writeGroup(rc *http.ResponseController, group []piece, text *strings.Builder) bool {
	var all string
	var ends []int // end offset of each piece
	var cuts []int // with ChunkSize: none, the cuts are every ChunkSize
	if len(group) == 1 {
		all = group[0].b
		ends = []int{len(all)}
	} else {
		var sb strings.Builder
		for _, p := range group {
			sb.WriteString(p.b)
			ends = append(ends, sb.Len())
		}
		all = sb.String()
	}
	if sw.sc.ChunkSize <= 0 {
		// Lines are never empty and a half cut lies strictly inside its
		// line, so cuts strictly increase from above 0 (as ChunkSize cuts
		// do): every cut writes at least one byte.
		start := 0
		for _, p := range group {
			for _, line := range splitLines(p.b) {
				if sw.sc.SplitLines && line > 1 {
					cuts = append(cuts, start+line/2)
				}
				start += line
				cuts = append(cuts, start)
			}
		}
	}
	next := func(i int) (int, bool) {
		if sw.sc.ChunkSize > 0 {
			c := (i + 1) * sw.sc.ChunkSize
			if c-sw.sc.ChunkSize >= len(all) {
				return 0, false
			}
			return min(c, len(all)), true
		}
		if i >= len(cuts) {
			return 0, false
		}
		return cuts[i], true
	}
	written, pi := 0, 0
	for i := 0; ; i++ {
		c, ok := next(i)
		if !ok {
			break
		}
		if sw.sc.Delay > 0 && !sw.sleep(sw.sc.Delay) {
			return false
		}
		if _, err := io.WriteString(sw.w, all[written:c]); err != nil {
			return false
		}
		if rc.Flush() != nil {
			return false
		}
		written = c
		for pi < len(group) && ends[pi] <= written {
			text.WriteString(group[pi].delta)
			pi++
		}
	}
	return true
}

// splitLines returns the lengths of the lines of b, terminators included.
func splitLines(b string) []int {
	var out []int
	for len(b) > 0 {
		i := strings.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, len(b))
			break
		}
		out = append(out, i+1)
		b = b[i+1:]
	}
	return out
}

func (sw *streamWriter) sleep(d time.Duration) bool {
	if sw.timer == nil {
		sw.timer = time.NewTimer(d)
	} else {
		sw.timer.Reset(d)
	}
	select {
	case <-sw.timer.C:
		return true
	case <-sw.r.Context().Done():
	case <-sw.done:
	}
	return false
}

// wait blocks until ch is closed (nil: never), the client leaves or the
// server closes; it reports whether ch was closed.
func (sw *streamWriter) wait(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-sw.r.Context().Done():
	case <-sw.done:
	}
	return false
}

// DeltaContent decodes one chat/stream event's data (the JSON after
// "data: ") the plain way a bare client would, with encoding/json, and
// returns its first choice's delta text; ok is false when data is not such
// an event. The load test's and the knee benchmark's bare relays use it as
// their whole parser.
func DeltaContent(data []byte) (text string, ok bool) {
	var ev struct {
		Choices []struct {
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
	}
	if json.Unmarshal(data, &ev) != nil || len(ev.Choices) == 0 {
		return "", false
	}
	return ev.Choices[0].Delta.Content, true
}

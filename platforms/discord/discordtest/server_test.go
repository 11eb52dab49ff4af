package discordtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func do(t *testing.T, s *Server, method, path, auth string, body any) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.APIURL()+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestRESTValidationAndRecording(t *testing.T) {
	t.Parallel()
	s := New(t)
	auth := "Bot " + s.Token()
	if st, _ := do(t, s, "GET", "/users/@me", "", nil); st != http.StatusUnauthorized {
		t.Errorf("no auth = %d", st)
	}
	if st, _ := do(t, s, "GET", "/users/@me", auth, nil); st != http.StatusOK {
		t.Errorf("users/@me = %d", st)
	}
	long := strings.Repeat("x", 2001)
	if st, body := do(t, s, "POST", "/channels/"+DefaultChannelID+"/messages", auth, map[string]any{"content": long}); st != 400 || body["code"] != float64(codeInvalidFormBody) {
		t.Errorf("2001 chars = %d %v", st, body)
	}
	if st, body := do(t, s, "POST", "/channels/"+DefaultChannelID+"/messages", auth, map[string]any{"content": ""}); st != 400 || body["code"] != float64(codeEmptyMessage) {
		t.Errorf("empty = %d %v", st, body)
	}
	st, _ := do(t, s, "POST", "/channels/"+DefaultChannelID+"/messages", auth, map[string]any{"content": "ping @everyone"})
	if st != 200 {
		t.Fatalf("create = %d", st)
	}
	if v := s.PingViolations(); len(v) != 1 || !strings.Contains(v[0], "allowed_mentions missing") {
		t.Errorf("violations = %v", v)
	}
	st, _ = do(t, s, "POST", "/channels/"+DefaultChannelID+"/messages", auth, map[string]any{
		"content":          "hi",
		"allowed_mentions": map[string]any{"parse": []string{"users"}},
	})
	if st != 200 || len(s.PingViolations()) != 2 {
		t.Errorf("parse users not flagged: %v", s.PingViolations())
	}
	if n := s.CountCalls("POST", "/channels/{id}/messages"); n != 4 {
		t.Errorf("recorded posts = %d, want 4", n)
	}
	if c := s.CallsTo("POST", "/channels/{id}/messages")[3]; c.Body.(map[string]any)["content"] != "hi" || c.Status != 200 {
		t.Errorf("recorded call = %+v", c)
	}
	if st, _ := do(t, s, "GET", "/nowhere", auth, nil); st != http.StatusNotFound {
		t.Errorf("unknown route = %d", st)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := New(t, WithRateLimitWindow(time.Hour))
	auth := "Bot " + s.Token()
	s.FailNext("*", "/users/@me", http.StatusBadGateway, 1)
	if st, _ := do(t, s, "GET", "/users/@me", auth, nil); st != http.StatusBadGateway {
		t.Errorf("injected = %d", st)
	}
	if st, _ := do(t, s, "GET", "/users/@me", auth, nil); st != http.StatusOK {
		t.Errorf("after the fault = %d", st)
	}
	s.RateLimit("POST /channels/{id}/typing", 2)
	for i, want := range []int{204, 204, 429} {
		st, body := do(t, s, "POST", "/channels/1/typing", auth, nil)
		if st != want {
			t.Errorf("typing %d = %d, want %d", i, st, want)
		}
		if st == 429 && (body["retry_after"] == nil || body["global"] != false) {
			t.Errorf("429 body = %v", body)
		}
	}
	if st, _ := do(t, s, "POST", "/channels/2/typing", auth, nil); st != 204 {
		t.Errorf("another channel's bucket = %d", st)
	}
	s.ClearFaults()
	if st, _ := do(t, s, "POST", "/channels/1/typing", auth, nil); st != 204 {
		t.Errorf("after ClearFaults = %d", st)
	}
}

func TestMatchRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, pattern, m, path string
		want                     bool
	}{
		{"PATCH", "/webhooks/{a}/{t}/messages/{m}", "PATCH", "/webhooks/1/x/messages/@original", true},
		{"*", "/channels/{id}/messages", "POST", "/channels/1/messages", true},
		{"", "/channels/{id}/messages", "GET", "/channels/1/messages", true},
		{"POST", "/channels/{id}/messages", "PATCH", "/channels/1/messages", false},
		{"POST", "/channels/{id}/messages", "POST", "/channels/1/messages/2", false},
		{"post", "/users/@me/channels", "POST", "/users/@me/channels", true},
	} {
		if got := matchRoute(tc.method, tc.pattern, tc.m, tc.path); got != tc.want {
			t.Errorf("matchRoute(%q %q, %q %q) = %v", tc.method, tc.pattern, tc.m, tc.path, got)
		}
	}
}

func TestCommandValidation(t *testing.T) {
	t.Parallel()
	s := New(t)
	auth := "Bot " + s.Token()
	path := "/applications/" + s.AppID() + "/commands"
	for name, cmds := range map[string][]map[string]any{
		"uppercase":    {{"name": "Ask", "description": "d", "type": 1}},
		"bad locale":   {{"name": "ask", "description": "d", "type": 1, "name_localizations": map[string]string{"xx": "a"}}},
		"no desc":      {{"name": "ask", "type": 1}},
		"menu desc":    {{"name": "Save it", "description": "d", "type": 3}},
		"duplicate":    {{"name": "a", "description": "d", "type": 1}, {"name": "a", "description": "d", "type": 1}},
		"opt order":    {{"name": "a", "description": "d", "type": 1, "options": []any{map[string]any{"name": "x", "description": "d", "type": 3}, map[string]any{"name": "y", "description": "d", "type": 3, "required": true}}}},
		"long zh name": {{"name": "a", "description": "d", "type": 1, "name_localizations": map[string]string{"zh-CN": strings.Repeat("好", 33)}}},
		"bad context":  {{"name": "a", "description": "d", "type": 1, "contexts": []int{0, 3}}},
		"bad install":  {{"name": "a", "description": "d", "type": 1, "integration_types": []int{2}}},
	} {
		if st, _ := do(t, s, "PUT", path, auth, cmds); st != 400 {
			t.Errorf("%s: status %d, want 400", name, st)
		}
	}
	ok := []map[string]any{{"name": "提问", "description": "问", "type": 1, "contexts": []int{0, 1, 2}, "integration_types": []int{0, 1}}, {"name": "Ask my avatar", "type": 3}}
	if st, _ := do(t, s, "PUT", path, auth, ok); st != 200 || len(s.Commands("")) != 2 {
		t.Errorf("valid commands = %d, %d stored", st, len(s.Commands("")))
	}
	if cmds := s.Commands(""); len(cmds) == 2 {
		if c := cmds[0]; c.Contexts == nil || len(*c.Contexts) != 3 || c.IntegrationTypes == nil || len(*c.IntegrationTypes) != 2 {
			t.Errorf("stored contexts %v, integration types %v", c.Contexts, c.IntegrationTypes)
		}
		if c := cmds[1]; c.Contexts != nil || c.IntegrationTypes != nil {
			t.Errorf("a command registered without them has contexts %v, integration types %v", c.Contexts, c.IntegrationTypes)
		}
	}
}

func TestGatewayRefusesBadIdentify(t *testing.T) {
	t.Parallel()
	s := New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, s.GatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ws.Close() }()
	var hello struct {
		Op int `json:"op"`
		D  struct {
			HeartbeatInterval int `json:"heartbeat_interval"`
		} `json:"d"`
	}
	if err := ws.ReadJSON(&hello); err != nil || hello.Op != 10 || hello.D.HeartbeatInterval == 0 {
		t.Fatalf("hello = %+v, %v", hello, err)
	}
	if err := ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "Bot nope", "intents": 1}}); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 {
		t.Errorf("read = %v, want close 4004", err)
	}
	if _, err := s.Dispatch("MESSAGE_CREATE", map[string]any{}); !errors.Is(err, ErrNoGateway) {
		t.Errorf("dispatch without a session = %v", err)
	}
}

// TestWaitQuietWaitsForCallsInProgress: a call still being received or
// answered keeps WaitQuiet waiting; once WaitQuiet returns, the call is
// recorded.
func TestWaitQuietWaitsForCallsInProgress(t *testing.T) {
	t.Parallel()
	s := New(t)
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.APIURL()+"/channels/"+DefaultChannelID+"/messages", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+s.Token())
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	if _, err := pw.Write([]byte(`{"content":`)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.wait(ctx, func() bool { return s.inflight > 0 }); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err = s.WaitQuiet(short, 50*time.Millisecond)
	cancelShort()
	if err == nil {
		t.Fatal("WaitQuiet returned while a call was in progress")
	}
	if _, err := pw.Write([]byte(`"hi"}`)); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if err := s.WaitQuiet(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := s.CountCalls(http.MethodPost, "/channels/{id}/messages"); n != 1 {
		t.Errorf("%d calls recorded after WaitQuiet, want 1", n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// readyGateway opens a gateway session on s (IDENTIFY, then READY and the
// GUILD_CREATE of the default guild) and returns the connection.
func readyGateway(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, s.GatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if f := readFrame(t, ws); f.Op != 10 {
		t.Fatalf("first frame = %+v, want HELLO", f)
	}
	if err := ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "Bot " + s.Token(), "intents": 1 << 9}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"READY", "GUILD_CREATE"} {
		if f := readFrame(t, ws); f.T != want {
			t.Fatalf("frame = %+v, want %s", f, want)
		}
	}
	return ws
}

func readFrame(t *testing.T, ws *websocket.Conn) frame {
	t.Helper()
	var f frame
	if err := ws.ReadJSON(&f); err != nil {
		t.Fatalf("read gateway frame: %v", err)
	}
	return f
}

// TestEcho: the bot's own channel messages come back as MESSAGE_CREATE,
// unless the server was made WithoutEcho.
func TestEcho(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		echo bool
	}{
		{"default", nil, true},
		{"WithoutEcho", []Option{WithoutEcho()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, tc.opts...)
			ws := readyGateway(t, s)
			st, body := do(t, s, "POST", "/channels/"+DefaultChannelID+"/messages", "Bot "+s.Token(), map[string]any{"content": "hi"})
			if st != http.StatusOK {
				t.Fatalf("create = %d %v", st, body)
			}
			// The echo is dispatched before the create returns: a marker
			// dispatched now comes after it.
			if _, err := s.Dispatch("MARKER", map[string]any{}); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			f := readFrame(t, ws)
			if tc.echo {
				var m struct {
					ID      string `json:"id"`
					Content string `json:"content"`
				}
				if f.T != "MESSAGE_CREATE" || json.Unmarshal(f.D, &m) != nil || m.ID != body["id"] || m.Content != "hi" {
					t.Fatalf("frame after create = %s %s, want the MESSAGE_CREATE echo", f.T, f.D)
				}
				f = readFrame(t, ws)
			}
			if f.T != "MARKER" {
				t.Errorf("frame = %s %s, want MARKER", f.T, f.D)
			}
		})
	}
}

// TestEchoOfEditsAndWebhooks: the bot's edits come back as MESSAGE_UPDATE,
// its webhooks' messages as MESSAGE_CREATE and their edits as
// MESSAGE_UPDATE, each before the call returns, as Discord dispatches
// them; WithoutEcho sends none of them.
func TestEchoOfEditsAndWebhooks(t *testing.T) {
	t.Parallel()
	for _, echo := range []bool{true, false} {
		t.Run(fmt.Sprint("echo=", echo), func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if !echo {
				opts = append(opts, WithoutEcho())
			}
			s := New(t, opts...)
			ws := readyGateway(t, s)
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			expect := func(event, id, content string) {
				t.Helper()
				if _, err := s.Dispatch("MARKER", map[string]any{}); err != nil {
					t.Fatal(err)
				}
				f := readFrame(t, ws)
				if echo && event != "" {
					var m struct {
						ID      string `json:"id"`
						Content string `json:"content"`
					}
					if f.T != event || json.Unmarshal(f.D, &m) != nil || m.ID != id || m.Content != content {
						t.Fatalf("frame = %s %s, want %s of %s with %q", f.T, f.D, event, id, content)
					}
					f = readFrame(t, ws)
				}
				if f.T != "MARKER" {
					t.Fatalf("frame = %s %s, want MARKER", f.T, f.D)
				}
			}
			st, body := do(t, s, "POST", "/channels/"+DefaultChannelID+"/messages", "Bot "+s.Token(), map[string]any{"content": "hi"})
			if st != http.StatusOK {
				t.Fatalf("create = %d %v", st, body)
			}
			id, _ := body["id"].(string)
			expect("MESSAGE_CREATE", id, "hi")
			st, body = do(t, s, "PATCH", "/channels/"+DefaultChannelID+"/messages/"+id, "Bot "+s.Token(), map[string]any{"content": "hi, edited"})
			if st != http.StatusOK {
				t.Fatalf("edit = %d %v", st, body)
			}
			expect("MESSAGE_UPDATE", id, "hi, edited")

			h := s.AddWebhook(DefaultChannelID, "avatar", "")
			st, body = do(t, s, "POST", "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", "", map[string]any{"content": "as the avatar", "username": "Alice's avatar"})
			if st != http.StatusOK {
				t.Fatalf("execute = %d %v", st, body)
			}
			hid, _ := body["id"].(string)
			expect("MESSAGE_CREATE", hid, "as the avatar")
			st, body = do(t, s, "PATCH", "/webhooks/"+h.ID+"/"+h.Token+"/messages/"+hid, "", map[string]any{"content": "as the avatar, edited"})
			if st != http.StatusOK {
				t.Fatalf("webhook edit = %d %v", st, body)
			}
			expect("MESSAGE_UPDATE", hid, "as the avatar, edited")
			// A read and a delete are no edits.
			if st, body = do(t, s, "GET", "/webhooks/"+h.ID+"/"+h.Token+"/messages/"+hid, "", nil); st != http.StatusOK {
				t.Fatalf("webhook get = %d %v", st, body)
			}
			expect("", "", "") // nothing before the marker
		})
	}
}

// TestCallbackValidation: a message callback (type 4) needs a valid data
// object; a rejected callback leaves the interaction unacknowledged.
func TestCallbackValidation(t *testing.T) {
	t.Parallel()
	s := New(t)
	readyGateway(t, s)
	in, err := s.SendInteraction(Interaction{GuildID: DefaultGuildID, ChannelID: DefaultChannelID, User: DefaultUser})
	if err != nil {
		t.Fatal(err)
	}
	path := "/interactions/" + in.ID + "/" + in.Token + "/callback"
	for _, tc := range []struct {
		name string
		body any
		code int
	}{
		{"no data", map[string]any{"type": 4}, codeInvalidFormBody},
		{"null data", map[string]any{"type": 4, "data": nil}, codeInvalidFormBody},
		{"empty data", map[string]any{"type": 4, "data": map[string]any{}}, codeEmptyMessage},
		{"bad button", map[string]any{"type": 4, "data": map[string]any{"content": "x", "components": []any{
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 5, "label": "l"}}},
		}}}, codeInvalidFormBody},
	} {
		if st, body := do(t, s, "POST", path, "", tc.body); st != http.StatusBadRequest || body["code"] != float64(tc.code) {
			t.Errorf("%s: %d %v, want 400 code %d", tc.name, st, body, tc.code)
		}
	}
	if cbs := s.Callbacks(); len(cbs) != 0 {
		t.Fatalf("rejected callbacks recorded: %+v", cbs)
	}
	if st, body := do(t, s, "POST", path, "", map[string]any{"type": 4, "data": map[string]any{"content": "ok"}}); st != http.StatusNoContent {
		t.Fatalf("valid callback = %d %v", st, body)
	}
	if cbs := s.Callbacks(); len(cbs) != 1 || cbs[0].Content != "ok" || cbs[0].Type != 4 {
		t.Errorf("callbacks = %+v", cbs)
	}
	webhook := "/webhooks/" + s.AppID() + "/" + in.Token
	if st, body := do(t, s, "POST", webhook, "", map[string]any{"content": ""}); st != http.StatusBadRequest || body["code"] != float64(codeEmptyMessage) {
		t.Errorf("empty follow-up = %d %v, want 400 code %d", st, body, codeEmptyMessage)
	}
}

// The global limit refuses calls over n per window with a global 429,
// counts them, exempts interaction webhooks, and can be turned off.
func TestGlobalLimit(t *testing.T) {
	s := New(t, WithGlobalLimit(2), WithRateLimitWindow(time.Hour))
	auth := "Bot " + s.Token()
	path := "/channels/" + DefaultChannelID + "/messages"
	for i, want := range []int{200, 200, 429, 429} {
		st, body := do(t, s, "POST", path, auth, map[string]any{"content": "hi"})
		if st != want {
			t.Fatalf("call %d: status %d, want %d", i+1, st, want)
		}
		if st == 429 && body["global"] != true {
			t.Errorf("429 body = %v, want global true", body)
		}
	}
	if got := s.GlobalLimited(); got != 2 {
		t.Errorf("GlobalLimited = %d, want 2", got)
	}
	if st, _ := do(t, s, "PATCH", "/webhooks/"+s.AppID()+"/no-such-token/messages/@original", "", map[string]any{"content": "x"}); st == 429 {
		t.Error("an interaction webhook call was refused by the global limit")
	}
	s.SetGlobalLimit(0)
	if st, _ := do(t, s, "POST", path, auth, map[string]any{"content": "hi"}); st != 200 {
		t.Errorf("with the limit off: status %d, want 200", st)
	}
}

// With an edge header the global limit counts each call when it reached
// the edge (the header's moment), not when the handler ran; a missing or
// malformed header falls back to the handler's time, and a server without
// the option ignores the header.
func TestGlobalLimitAtTheEdge(t *testing.T) {
	t.Parallel()
	const header = "X-Edge-Arrived"
	call := func(s *Server, stamp string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", s.APIURL()+"/channels/"+DefaultChannelID+"/messages", strings.NewReader(`{"content":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bot "+s.Token())
		req.Header.Set("Content-Type", "application/json")
		if stamp != "" {
			req.Header.Set(header, stamp)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	// Edge windows are aligned to the clock: base starts one.
	base := time.Now().Truncate(time.Second).Add(-10 * time.Second)
	at := func(d time.Duration) string { return strconv.FormatInt(base.Add(d).UnixNano(), 10) }

	s := New(t, WithGlobalLimit(2), WithEdgeHeader(header))
	for i, c := range []struct {
		stamp string
		want  int
	}{
		{at(0), 200},
		{at(400 * time.Millisecond), 200},
		{at(1200 * time.Millisecond), 200}, // a new second at the edge
		{at(1300 * time.Millisecond), 200},
		{at(1350 * time.Millisecond), 429}, // the third in that second
		{at(500 * time.Millisecond), 429},  // late, but in the full first second
		{"garbage", 200},                   // counted now: a new second
		{"-5", 200},
		{"", 429},
	} {
		if got := call(s, c.stamp); got != c.want {
			t.Errorf("call %d (stamp %q): status %d, want %d", i+1, c.stamp, got, c.want)
		}
	}
	if got := s.GlobalLimited(); got != 3 {
		t.Errorf("GlobalLimited = %d, want 3", got)
	}
	calls := s.Calls()
	if len(calls) != 9 || !calls[0].Edge.Equal(base) || !calls[6].Edge.IsZero() || !calls[8].Edge.IsZero() {
		t.Errorf("recorded edge times: %d calls, first %v (want %v), malformed and missing %v, %v (want zero)", len(calls), calls[0].Edge, base, calls[6].Edge, calls[8].Edge)
	}

	plain := New(t, WithGlobalLimit(2))
	for i, want := range []int{200, 200, 429} {
		if got := call(plain, at(time.Duration(i)*1200*time.Millisecond)); got != want {
			t.Errorf("without the option, call %d: status %d, want %d (the header ignored)", i+1, got, want)
		}
	}
}

package slacktest

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxTextChars is where the fake answers msg_too_long for text and
// markdown blocks (Slack's practical limit on chat.update, §2).
const maxTextChars = 4000

// maxStreamChars is the per-call limit on markdown_text.
const maxStreamChars = 12000

type apiResult struct {
	status int
	header http.Header
	body   map[string]any
}

func ok(fields map[string]any) apiResult {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["ok"] = true
	return apiResult{status: http.StatusOK, body: fields}
}

func slackErr(code string) apiResult {
	return apiResult{status: http.StatusOK, body: map[string]any{"ok": false, "error": code}}
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	call := Call{Method: method, At: time.Now()}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var token string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		call.JSON = body
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		call.Form = form
		token = form.Get("token")
		if token == "" {
			token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
	}

	call.Token = token
	res := s.serveAPI(r, method, token, call.Form)
	call.Status = res.status
	if e, ok := res.body["error"].(string); ok {
		call.Error = e
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	for k, v := range res.header {
		w.Header()[k] = v
	}
	if res.status == http.StatusTooManyRequests {
		w.WriteHeader(res.status)
		_, _ = io.WriteString(w, "rate limited")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(res.status)
	_ = json.NewEncoder(w).Encode(res.body)
}

func (s *Server) serveAPI(r *http.Request, method, token string, form url.Values) apiResult {
	if method == "oauth.v2.access" {
		return s.oauthAccess(r, form)
	}
	s.mu.Lock()
	if retryAfter, limited := s.takeRateLimit(method); limited {
		s.mu.Unlock()
		return apiResult{status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {retryAfter}}}
	}
	wantToken := s.opts.BotToken
	if method == "apps.connections.open" {
		wantToken = s.opts.AppToken
	}
	installed := s.teamOfTokenLocked(token)
	if token != wantToken && (installed == nil || method == "apps.connections.open") {
		s.mu.Unlock()
		return slackErr("invalid_auth")
	}
	if code, failed := s.takeFailure(method); failed {
		s.mu.Unlock()
		return slackErr(code)
	}
	s.mu.Unlock()

	switch method {
	case "auth.test":
		if installed != nil {
			return ok(map[string]any{
				"team": installed.ws.TeamName, "team_id": installed.ws.TeamID,
				"user_id": installed.ws.BotUserID, "bot_id": "B" + installed.ws.TeamID,
			})
		}
		return ok(map[string]any{
			"url": "https://" + strings.ToLower(s.opts.TeamName) + ".slack.com/", "team": s.opts.TeamName,
			"user": s.opts.BotName, "team_id": s.opts.TeamID, "user_id": s.opts.BotUserID, "bot_id": s.opts.BotID,
		})
	case "apps.connections.open":
		s.mu.Lock()
		s.opens++
		n := s.opens
		s.mu.Unlock()
		return ok(map[string]any{"url": "ws://" + r.Host + "/link/?ticket=t" + strconv.Itoa(n)})
	case "users.info":
		return s.usersInfo(form)
	case "chat.postMessage":
		return s.postMessage(form)
	case "chat.update":
		return s.update(form)
	case "chat.delete":
		return s.deleteMessage(form)
	case "chat.postEphemeral":
		return s.postEphemeral(form)
	case "chat.startStream":
		return s.startStream(form)
	case "chat.appendStream":
		return s.appendStream(form)
	case "chat.stopStream":
		return s.stopStream(form)
	}
	team := s.opts.TeamID
	if installed != nil {
		team = installed.ws.TeamID
	}
	if res, handled := s.agentMethod(method, team, form); handled {
		return res
	}
	switch method {
	case "assistant.threads.setStatus":
		if form.Get("channel_id") == "" || form.Get("thread_ts") == "" {
			return slackErr("invalid_arguments")
		}
		return ok(nil)
	}
	return slackErr("unknown_method")
}

// takeRateLimit uses up one injected 429 for method (RateLimit) and
// returns its Retry-After value, in whole seconds rounded up. Callers hold
// s.mu.
func (s *Server) takeRateLimit(method string) (retryAfter string, limited bool) {
	rl := s.rateLimits[method]
	if rl == nil || rl.n <= 0 {
		return "", false
	}
	rl.n--
	return strconv.Itoa(int(math.Ceil(rl.retryAfter.Seconds()))), true
}

// takeFailure uses up one injected error for method (FailMethodN) and
// returns its Slack error code. Callers hold s.mu.
func (s *Server) takeFailure(method string) (code string, failed bool) {
	f := s.failures[method]
	if f == nil || f.n == 0 {
		return "", false
	}
	if f.n > 0 {
		f.n--
	}
	return f.err, true
}

func (s *Server) usersInfo(form url.Values) apiResult {
	id := form.Get("user")
	s.mu.Lock()
	u, known := s.users[id]
	s.mu.Unlock()
	if !known {
		if !isHuman(id) {
			return slackErr("user_not_found")
		}
		u = User{ID: id, Name: strings.ToLower(id), DisplayName: "User " + id, Locale: "en-US"}
	}
	user := map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "real_name": u.RealName, "is_bot": u.IsBot,
		"profile": map[string]any{"display_name": u.DisplayName, "real_name": u.RealName},
	}
	if form.Get("include_locale") == "true" {
		user["locale"] = u.Locale
	}
	return ok(map[string]any{"user": user})
}

// markdownOf returns the text of the markdown blocks in a blocks field.
func markdownOf(blocks string) string {
	if blocks == "" {
		return ""
	}
	var bs []struct {
		Type string          `json:"type"`
		Text json.RawMessage `json:"text"`
	}
	if json.Unmarshal([]byte(blocks), &bs) != nil {
		return ""
	}
	var parts []string
	for _, b := range bs {
		var t string
		if b.Type == "markdown" && json.Unmarshal(b.Text, &t) == nil {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

func tooLong(s string, limit int) bool { return utf8.RuneCountInString(s) > limit }

func (s *Server) checkContent(form url.Values) (text, md string, res *apiResult) {
	text, md = form.Get("text"), markdownOf(form.Get("blocks"))
	if text == "" && md == "" && form.Get("blocks") == "" {
		r := slackErr("no_text")
		return "", "", &r
	}
	if tooLong(text, maxTextChars) || tooLong(md, maxTextChars) {
		r := slackErr("msg_too_long")
		return "", "", &r
	}
	return text, md, nil
}

// createBotMessage checks the content of a chat.postMessage or
// chat.postEphemeral call to channel ch and records the bot's new message,
// ephemeral when ephemeralUser is set. It returns a copy of the message.
func (s *Server) createBotMessage(form url.Values, ch, ephemeralUser string) (Message, *apiResult) {
	text, md, res := s.checkContent(form)
	if res != nil {
		return Message{}, res
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, text, md)
	m := &Message{
		Channel: ch, TS: s.nextTS(), ThreadTS: form.Get("thread_ts"), User: s.opts.BotUserID, Bot: true,
		Text: text, Markdown: md, Blocks: json.RawMessage(form.Get("blocks")),
		Ephemeral: ephemeralUser != "", EphemeralUser: ephemeralUser,
		Username: form.Get("username"), IconURL: form.Get("icon_url"),
	}
	s.addMessage(m)
	return m.clone(), nil
}

func (s *Server) postMessage(form url.Values) apiResult {
	ch := form.Get("channel")
	if ch == "" {
		return slackErr("channel_not_found")
	}
	m, res := s.createBotMessage(form, ch, "")
	if res != nil {
		return *res
	}
	return ok(map[string]any{"channel": ch, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS, "thread_ts": m.ThreadTS}})
}

func (s *Server) update(form url.Values) apiResult {
	ch, ts := form.Get("channel"), form.Get("ts")
	text, md, res := s.checkContent(form)
	if res != nil {
		return *res
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, text, md)
	m, found := s.byKey[ch+"/"+ts]
	if !found || m.Deleted || m.Ephemeral {
		return slackErr("message_not_found")
	}
	if !m.Bot {
		return slackErr("cant_update_message")
	}
	m.Text, m.Markdown, m.Blocks = text, md, json.RawMessage(form.Get("blocks"))
	m.UpdateUsernames = append(m.UpdateUsernames, form.Get("username"))
	m.UpdateIconURLs = append(m.UpdateIconURLs, form.Get("icon_url"))
	m.Edits = append(m.Edits, m.Display())
	return ok(map[string]any{"channel": ch, "ts": ts, "text": text})
}

func (s *Server) deleteMessage(form url.Values) apiResult {
	ch, ts := form.Get("channel"), form.Get("ts")
	s.mu.Lock()
	defer s.mu.Unlock()
	m, found := s.byKey[ch+"/"+ts]
	if !found || m.Deleted {
		return slackErr("message_not_found")
	}
	if !m.Bot {
		return slackErr("cant_delete_message")
	}
	m.Deleted = true
	return ok(map[string]any{"channel": ch, "ts": ts})
}

func (s *Server) postEphemeral(form url.Values) apiResult {
	ch, user := form.Get("channel"), form.Get("user")
	if ch == "" || user == "" {
		return slackErr("invalid_arguments")
	}
	m, res := s.createBotMessage(form, ch, user)
	if res != nil {
		return *res
	}
	return ok(map[string]any{"message_ts": m.TS})
}

func isHuman(id string) bool { return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") }

func (s *Server) startStream(form url.Values) apiResult {
	ch, thread := form.Get("channel"), form.Get("thread_ts")
	ru, rt := form.Get("recipient_user_id"), form.Get("recipient_team_id")
	s.mu.Lock()
	off := s.streamingOff[s.opts.TeamID] || (rt != "" && s.streamingOff[rt])
	s.mu.Unlock()
	switch {
	case off:
		return slackErr("feature_not_enabled")
	case ch == "" || thread == "":
		return slackErr("invalid_arguments")
	case !strings.HasPrefix(ch, "D") && rt == "":
		return slackErr("missing_recipient_team_id")
	case !strings.HasPrefix(ch, "D") && ru == "":
		return slackErr("missing_recipient_user_id")
	case ru != "" && !isHuman(ru):
		return slackErr("invalid_recipient")
	case tooLong(form.Get("markdown_text"), maxStreamChars):
		return slackErr("msg_too_long")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, form.Get("markdown_text"))
	m := &Message{
		Channel: ch, TS: s.nextTS(), ThreadTS: thread, User: s.opts.BotUserID, Bot: true, Stream: true,
		Markdown: form.Get("markdown_text"), RecipientUserID: ru, RecipientTeamID: rt,
		Username: form.Get("username"), IconURL: form.Get("icon_url"),
	}
	s.addMessage(m)
	return ok(map[string]any{"channel": ch, "ts": m.TS})
}

func (s *Server) streamMessage(form url.Values) (*Message, *apiResult) {
	m, found := s.byKey[form.Get("channel")+"/"+form.Get("ts")]
	if !found || !m.Stream {
		r := slackErr("message_not_found")
		return nil, &r
	}
	if m.Stopped {
		r := slackErr("message_not_in_streaming_state")
		return nil, &r
	}
	if tooLong(form.Get("markdown_text"), maxStreamChars) {
		r := slackErr("msg_too_long")
		return nil, &r
	}
	return m, nil
}

func (s *Server) appendStream(form url.Values) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, res := s.streamMessage(form)
	if res != nil {
		return *res
	}
	if form.Get("markdown_text") == "" {
		return slackErr("invalid_arguments")
	}
	m.Appends = append(m.Appends, form.Get("markdown_text"))
	m.Markdown += form.Get("markdown_text")
	return ok(map[string]any{"channel": m.Channel, "ts": m.TS})
}

func (s *Server) stopStream(form url.Values) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, res := s.streamMessage(form)
	if res != nil {
		return *res
	}
	m.Markdown += form.Get("markdown_text")
	m.Stopped = true
	return ok(map[string]any{"channel": m.Channel, "ts": m.TS})
}

func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	u := s.srv.URL + r.URL.Path
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var msg struct {
		Text            string          `json:"text"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	call := Call{Method: "response_url", JSON: body, At: time.Now(), Status: http.StatusOK}
	status, answer := http.StatusOK, `{"ok":true}`
	s.mu.Lock()
	posts, known := s.responses[u]
	retryAfter, limited := s.takeRateLimit("response_url")
	code, failed := "", false
	if !limited {
		code, failed = s.takeFailure("response_url")
	}
	switch {
	case limited:
		w.Header().Set("Retry-After", retryAfter)
		status, answer = http.StatusTooManyRequests, `{"ok":false,"error":"ratelimited"}`
	case failed:
		status, answer = http.StatusNotFound, `{"ok":false,"error":"`+code+`"}`
	case !known:
		status, answer = http.StatusNotFound, `{"ok":false,"error":"expired_url"}`
	case len(posts) >= 5:
		status, answer = http.StatusNotFound, `{"ok":false,"error":"used_url"}`
	case json.Unmarshal(body, &msg) != nil:
		status, answer = http.StatusBadRequest, `{"ok":false,"error":"invalid_payload"}`
	default:
		s.responses[u] = append(posts, ResponsePost{
			URL: u, ResponseType: msg.ResponseType, Text: msg.Text, Markdown: markdownOf(string(msg.Blocks)),
			ReplaceOriginal: msg.ReplaceOriginal, DeleteOriginal: msg.DeleteOriginal, Blocks: msg.Blocks, At: call.At,
		})
	}
	call.Status = status
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

package secondmetest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

type sessionState struct {
	id, userID, appID string
	updated           time.Time
	msgs              []secondme.SessionMessage
	lastMessage       string // used when msgs is empty
	count             int    // used when msgs is empty
}

// AddSession adds a session owned by userID with its messages and returns
// its ID (sess.SessionID, or a generated one). AppID defaults to
// "general", LastUpdateTime to now.
func (s *Server) AddSession(userID string, sess secondme.Session, msgs ...secondme.SessionMessage) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := sess.SessionID
	if id == "" {
		id = fmt.Sprintf("labs_sess_%d", s.nextID())
	}
	st := &sessionState{
		id: id, userID: s.ensureUserLocked(userID), appID: cmp.Or(sess.AppID, "general"),
		updated: sess.LastUpdateTime, msgs: slices.Clone(msgs),
		lastMessage: sess.LastMessage, count: sess.MessageCount,
	}
	if st.updated.IsZero() {
		st.updated = s.nowLocked()
	}
	for i := range st.msgs {
		if st.msgs[i].MessageID == "" {
			st.msgs[i].MessageID = fmt.Sprintf("msg_%d", s.nextID())
		}
		if st.msgs[i].CreateTime.IsZero() {
			st.msgs[i].CreateTime = st.updated
		}
	}
	s.sessions[id] = st
	return id
}

// Sessions returns the user's sessions, newest first.
func (s *Server) Sessions(userID string) []secondme.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionsLocked(userID, "")
}

func (s *Server) sessionsLocked(userID, appID string) []secondme.Session {
	var list []*sessionState
	for _, st := range s.sessions {
		if st.userID == userID && (appID == "" || st.appID == appID) {
			list = append(list, st)
		}
	}
	slices.SortFunc(list, func(a, b *sessionState) int {
		if c := b.updated.Compare(a.updated); c != 0 {
			return c
		}
		return compareIDs(b.id, a.id)
	})
	out := make([]secondme.Session, 0, len(list))
	for _, st := range list {
		sess := secondme.Session{SessionID: st.id, AppID: st.appID, LastUpdateTime: st.updated,
			LastMessage: st.lastMessage, MessageCount: st.count}
		if n := len(st.msgs); n > 0 {
			sess.LastMessage, sess.MessageCount = truncRunes(st.msgs[n-1].Content, 50), n
		}
		out = append(out, sess)
	}
	return out
}

// compareIDs orders generated IDs numerically by their numeric suffix.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Messages returns a session's messages, oldest first.
func (s *Server) Messages(sessionID string) []secondme.SessionMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.sessions[sessionID]; st != nil {
		return slices.Clone(st.msgs)
	}
	return nil
}

// DeleteSession forgets a session: chats naming it get 404
// secondme.session.not_found.
func (s *Server) DeleteSession(sessionID string) {
	s.mu.Lock()
	delete(s.sessions, sessionID)
	s.mu.Unlock()
}

// openSession resolves the call's session, creating one when the request
// had none, and records the system prompt and user message.
func (s *Server) openSession(w http.ResponseWriter, call ChatCall, announce string) (id string, isNew, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if call.SessionID != "" {
		st := s.sessions[call.SessionID]
		switch {
		case st == nil:
			s.writeErr(w, http.StatusNotFound, "secondme.session.not_found", "session not found")
			return "", false, false
		case st.userID != call.UserID:
			s.writeErr(w, http.StatusForbidden, "secondme.session.unauthorized", "no access to this session")
			return "", false, false
		}
		s.appendLocked(st, "user", call.Message)
		return st.id, false, true
	}
	id = announce
	if id == "" || s.sessions[id] != nil {
		id = fmt.Sprintf("labs_sess_%d", s.nextID())
	}
	st := &sessionState{id: id, userID: call.UserID, appID: call.AppID, updated: s.nowLocked()}
	s.sessions[id] = st
	if call.SystemPrompt != "" {
		s.appendLocked(st, "system", call.SystemPrompt)
	}
	s.appendLocked(st, "user", call.Message)
	return id, true, true
}

// appendMessage adds a message to the session and returns its id ("" when
// the session is gone).
func (s *Server) appendMessage(sessionID, role, content string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sessions[sessionID]
	if st == nil {
		return ""
	}
	s.appendLocked(st, role, content)
	return st.msgs[len(st.msgs)-1].MessageID
}

// setAssistantText replaces the content of the session's message id (set
// by appendMessage), or removes it when content is empty.
func (s *Server) setAssistantText(sessionID, id, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sessions[sessionID]
	if st == nil {
		return
	}
	for i := range st.msgs {
		if st.msgs[i].MessageID != id {
			continue
		}
		if content == "" {
			st.msgs = append(st.msgs[:i], st.msgs[i+1:]...)
		} else {
			st.msgs[i].Content = content
		}
		return
	}
}

func (s *Server) appendLocked(st *sessionState, role, content string) {
	now := s.nowLocked()
	if !now.After(st.updated) {
		now = st.updated.Add(time.Millisecond) // keep the order strict
	}
	st.updated = now
	st.msgs = append(st.msgs, secondme.SessionMessage{
		MessageID: fmt.Sprintf("msg_%d", s.nextID()), Role: role, Content: content, CreateTime: now,
	})
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func (s *Server) handleSessionList(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r, "chat.read", "chat")
	if !ok {
		return
	}
	s.mu.Lock()
	list := s.sessionsLocked(uid, r.URL.Query().Get("appId"))
	s.mu.Unlock()
	out := make([]map[string]any, 0, len(list))
	for _, sess := range list {
		out = append(out, map[string]any{
			"sessionId": sess.SessionID, "appId": sess.AppID, "lastMessage": sess.LastMessage,
			"lastUpdateTime": sess.LastUpdateTime.UTC().Format(time.RFC3339Nano), "messageCount": sess.MessageCount,
		})
	}
	writeOK(w, map[string]any{"sessions": out})
}

func (s *Server) handleSessionMessages(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r, "chat.read", "chat")
	if !ok {
		return
	}
	id := r.URL.Query().Get("sessionId")
	s.mu.Lock()
	st := s.sessions[id]
	var msgs []secondme.SessionMessage
	owner := ""
	if st != nil {
		msgs, owner = slices.Clone(st.msgs), st.userID
	}
	s.mu.Unlock()
	if st != nil && owner != uid {
		s.writeErr(w, http.StatusForbidden, "secondme.session.unauthorized", "no access to this session")
		return
	}
	var sender any = uid
	if n, err := strconv.ParseInt(uid, 10, 64); err == nil {
		sender = n
	}
	out := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, map[string]any{
			"messageId": m.MessageID, "role": m.Role, "content": m.Content, "senderUserId": sender,
			"receiverUserId": nil, "createTime": m.CreateTime.UTC().Format(time.RFC3339Nano),
		})
	}
	writeOK(w, map[string]any{"sessionId": id, "messages": out})
}

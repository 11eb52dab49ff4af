package secondme

import (
	"context"
	"net/url"
	"time"
)

// Endpoint paths of sessions.go.
const (
	pathSessionList     = "/api/secondme/chat/session/list"
	pathSessionMessages = "/api/secondme/chat/session/messages"
)

// Session is a chat session of session/list.
type Session struct {
	SessionID      string
	AppID          string
	LastMessage    string // cut to 50 characters by the server
	LastUpdateTime time.Time
	MessageCount   int
}

// SessionMessage is one message of session/messages.
type SessionMessage struct {
	MessageID  string
	Role       string // system, user or assistant
	Content    string
	CreateTime time.Time
}

// ListSessions lists the user's chat sessions, newest first (scope
// chat.read, older chat). appID filters by app; empty uses WithAppID, and
// no filter when that is empty too.
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/secondme
func (c *Client) ListSessions(ctx context.Context, token, appID string) ([]Session, error) {
	if appID == "" {
		appID = c.appID
	}
	var q url.Values
	if appID != "" {
		q = url.Values{"appId": {appID}}
	}
	var w struct {
		Sessions []struct {
			SessionID      flexString `json:"sessionId"`
			AppID          flexString `json:"appId"`
			LastMessage    flexString `json:"lastMessage"`
			LastUpdateTime flexTime   `json:"lastUpdateTime"`
			MessageCount   flexInt    `json:"messageCount"`
		} `json:"sessions"`
	}
	if _, err := c.do(ctx, c.get(pathSessionList, token, q), &w); err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(w.Sessions))
	for _, s := range w.Sessions {
		out = append(out, Session{
			SessionID: s.SessionID.V, AppID: s.AppID.V, LastMessage: s.LastMessage.V,
			LastUpdateTime: s.LastUpdateTime.V, MessageCount: int(s.MessageCount.V),
		})
	}
	return out, nil
}

// SessionMessages returns a session's messages, oldest first (scope
// chat.read, older chat). An unknown session gives an empty list; another
// user's session gives secondme.session.unauthorized (IsSessionInvalid).
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/secondme
func (c *Client) SessionMessages(ctx context.Context, token, sessionID string) ([]SessionMessage, error) {
	if sessionID == "" {
		return nil, &ValidationError{Field: "sessionId", Problem: "is empty"}
	}
	var w struct {
		Messages []struct {
			MessageID  flexString `json:"messageId"`
			Role       flexString `json:"role"`
			Content    flexString `json:"content"`
			CreateTime flexTime   `json:"createTime"`
		} `json:"messages"`
	}
	q := url.Values{"sessionId": {sessionID}}
	if _, err := c.do(ctx, c.get(pathSessionMessages, token, q), &w); err != nil {
		return nil, err
	}
	out := make([]SessionMessage, 0, len(w.Messages))
	for _, m := range w.Messages {
		out = append(out, SessionMessage{
			MessageID: m.MessageID.V, Role: m.Role.V, Content: m.Content.V, CreateTime: m.CreateTime.V,
		})
	}
	return out, nil
}

package discordtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// wait blocks until cond (called with s.mu held) is true or ctx is done.
func (s *Server) wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return fmt.Errorf("discordtest: server closed")
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("discordtest: wait: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Messages returns every message the bot posted (deleted ones included), in
// creation order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.messages[id].clone())
	}
	return out
}

// MessagesIn returns the bot's live messages in a channel, in order.
func (s *Server) MessagesIn(channelID string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.ChannelID == channelID && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// Message returns a bot message by id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// WaitMessage waits until a bot message satisfies pred (re-checked on every
// change) and returns it.
func (s *Server) WaitMessage(ctx context.Context, pred func(Message) bool) (Message, error) {
	var out Message
	err := s.wait(ctx, func() bool {
		for _, id := range s.order {
			if m := s.messages[id].clone(); pred(m) {
				out = m
				return true
			}
		}
		return false
	})
	return out, err
}

// RepliesTo returns the bot's live channel messages that answer a trigger
// message: replies to it, messages in the thread opened on it (a message
// thread has the message's id), and messages created after it in its
// channel, in order. A multi-part reply comes back as several messages.
func (s *Server) RepliesTo(triggerID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repliesToLocked(triggerID)
}

func (s *Server) repliesToLocked(triggerID string) []Message {
	trigger, ok := s.userMsgs[triggerID]
	var out []Message
	for _, id := range s.order {
		m := s.messages[id]
		if m.Deleted || m.InteractionID != "" {
			continue
		}
		if m.ChannelID == triggerID || m.ReplyTo == triggerID ||
			(ok && m.ChannelID == trigger.ChannelID && !m.Created.Before(trigger.Timestamp)) {
			out = append(out, m.clone())
		}
	}
	return out
}

// WaitReply waits until a reply to the trigger message (see RepliesTo)
// satisfies done and returns it. A nil done accepts the first reply.
func (s *Server) WaitReply(ctx context.Context, triggerID string, done func(Message) bool) (Message, error) {
	var out Message
	err := s.wait(ctx, func() bool {
		for _, m := range s.repliesToLocked(triggerID) {
			if done == nil || done(m) {
				out = m
				return true
			}
		}
		return false
	})
	return out, err
}

// WaitQuiet waits until no REST call has arrived or been in progress for d
// (a reply is then final, as far as the fake can tell). A call counts from
// its arrival until it is answered and recorded, so after WaitQuiet every
// call is in Calls and every change it made is visible.
func (s *Server) WaitQuiet(ctx context.Context, d time.Duration) error {
	for {
		s.mu.Lock()
		busy := s.inflight > 0
		idle := time.Since(s.lastCall)
		changed := s.changed
		s.mu.Unlock()
		if !busy && idle >= d {
			return nil
		}
		wait := d - idle
		if busy {
			wait = d // re-checked when the call ends (changed is closed)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("discordtest: wait quiet: %w", ctx.Err())
		case <-changed:
			t.Stop()
		case <-t.C:
		}
	}
}

// MentionAndWait simulates u mentioning the bot in a guild channel, waits
// for a reply and then for quiet (no REST call for quiet), and returns the
// trigger and the final replies (several when the reply was split).
func (s *Server) MentionAndWait(ctx context.Context, guildID, channelID string, u User, text string, quiet time.Duration) (*discordgo.Message, []Message, error) {
	trigger, err := s.Mention(guildID, channelID, u, text)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.WaitReply(ctx, trigger.ID, nil); err != nil {
		return trigger, nil, err
	}
	if err := s.WaitQuiet(ctx, quiet); err != nil {
		return trigger, nil, err
	}
	return trigger, s.RepliesTo(trigger.ID), nil
}

// PingViolations lists every message create or edit whose allowed_mentions
// could ping someone (missing, parse not empty, users or roles listed,
// replied_user true).
func (s *Server) PingViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// AssertNoPings fails t for every ping violation.
func (s *Server) AssertNoPings(t testing.TB) {
	t.Helper()
	for _, v := range s.PingViolations() {
		t.Errorf("discordtest: message could ping: %s", v)
	}
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// splitTurns implements store.Turns on Redis Cluster when the key prefix
// has no hash tag, so the keys of one turn live in different slots (and
// perhaps on different nodes) and neither a script nor MULTI may span
// them. It makes the same single-aggregate calls the bridge would make
// without Turns, pipelined where order does not matter:
//
//   - Admit: one pipeline of SET NX PX (go-redis sends it to each node
//     concurrently), then Take if every id was new. Two round trips; each
//     claim is still atomic, but the claims and the take are not one unit.
//   - Begin: the acquire script, then one pipeline of the two GETs. Two
//     round trips; the reads happen under the lease, as in the script.
//   - Enter: Admit, then the inbox script. Not atomic: a crash between
//     the two loses the message (claimed, not in the inbox).
//   - Finish: Validate, PutConversation, HDEL of the reply, the inbox
//     entry's removal, Release. Up to five round trips and NOT atomic: if the lease expires or is taken
//     over between Validate and the write, a stale conversation may be
//     written. Use a prefix with a hash tag ("{bridge}:") on Cluster to
//     get the atomic scripts.
type splitTurns struct{ s *Store }

var _ store.Turns = splitTurns{}

// Admit implements store.Turns.
func (t splitTurns) Admit(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit) (store.Admission, error) {
	s := t.s
	if err := s.check(); err != nil {
		return store.Admission{}, fmt.Errorf("admit turn: %w", err)
	}
	ids, err := codec.Admit(ids, claimTTL, rate)
	if err != nil {
		return store.Admission{}, err
	}
	cmds := make([]*goredis.BoolCmd, len(ids))
	if len(ids) > 0 {
		_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.SetNX(ctx, s.k.dedupe(id), "1", claimTTL)
			}
			return nil
		})
		if err != nil {
			return store.Admission{}, s.wrap("admit turn", err)
		}
	}
	for _, c := range cmds {
		if !c.Val() {
			return store.Admission{}, nil
		}
	}
	ok, wait, err := s.Take(ctx, rateKey, rate, 1)
	if err != nil {
		return store.Admission{}, fmt.Errorf("admit turn: %w", err)
	}
	return store.Admission{Claimed: true, Allowed: ok, Wait: wait}, nil
}

// Begin implements store.Turns.
func (t splitTurns) Begin(ctx context.Context, key, owner string, ttl time.Duration, conv store.ConversationKey) (*store.TurnStart, error) {
	s := t.s
	if err := codec.Begin(key, owner, ttl); err != nil {
		return nil, err
	}
	l, err := s.Acquire(ctx, key, owner, ttl)
	if err != nil {
		return nil, fmt.Errorf("begin turn: %w", err)
	}
	var getConv, getLink *goredis.StringCmd
	_, _ = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		getConv = p.Get(ctx, s.k.conv(conv))
		getLink = p.Get(ctx, s.k.link(conv.UserKey()))
		return nil
	}) // the error is that of a command, checked below
	for _, c := range []*goredis.StringCmd{getConv, getLink} {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			_ = s.Release(ctx, l) // the read error is the one to report
			return nil, s.wrap("begin turn", err)
		}
	}
	return s.turnStart(ctx, l, conv, rawString(getConv), rawString(getLink))
}

// Finish implements store.Turns (not atomically; see splitTurns).
func (t splitTurns) Finish(ctx context.Context, l store.Lease, c *store.Conversation, ttl time.Duration, replyID string) error {
	s := t.s
	if err := codec.Finish(l, c, ttl); err != nil {
		return err
	}
	if err := s.Validate(ctx, l); err != nil {
		return fmt.Errorf("finish turn: %w", err)
	}
	if c != nil {
		if err := s.PutConversation(ctx, *c, ttl); err != nil {
			return fmt.Errorf("finish turn: %w", err)
		}
	}
	if replyID != "" {
		if err := s.c.HDel(ctx, s.k.replies(), replyID).Err(); err != nil {
			return s.wrap("finish turn", err)
		}
		if _, err := s.removeInbox(ctx, replyID); err != nil {
			return s.wrap("finish turn", err)
		}
	}
	if err := s.Release(ctx, l); err != nil {
		return fmt.Errorf("finish turn: %w", err)
	}
	return nil
}

// rawString returns a GET's value as the script would (a string), or nil
// when the key was absent.
func rawString(c *goredis.StringCmd) any {
	if c.Err() != nil {
		return nil
	}
	return c.Val()
}

package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Turns returns the composite hot-path aggregate: one Lua script per
// method (scriptTurns) on a single server or Sentinel, and on Cluster when
// the key prefix holds a hash tag; otherwise, on Cluster, the same effects
// through the single-aggregate calls (splitTurns), which costs more round
// trips and loses some atomicity (see splitTurns).
func (s *Store) Turns() store.Turns {
	if s.oneSlot() {
		return scriptTurns{s}
	}
	return splitTurns{s}
}

// oneSlot reports whether a script may touch keys of different hash tags:
// always outside Cluster, and on Cluster when the prefix's own hash tag
// (complete, see checkPrefix) puts every key in one slot.
func (s *Store) oneSlot() bool {
	if _, ok := s.c.(*goredis.ClusterClient); !ok {
		return true
	}
	return strings.IndexByte(s.k.p, '{') >= 0
}

// scriptTurns implements store.Turns with one script call per method.
type scriptTurns struct{ s *Store }

var _ store.Turns = scriptTurns{}

// Admit implements store.Turns with admitScript.
func (t scriptTurns) Admit(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit) (store.Admission, error) {
	s := t.s
	if err := s.check(); err != nil {
		return store.Admission{}, fmt.Errorf("admit turn: %w", err)
	}
	ids, err := codec.Admit(ids, claimTTL, rate)
	if err != nil {
		return store.Admission{}, err
	}
	keys := make([]string, 0, len(ids)+1)
	keys = append(keys, s.k.budget(rateKey))
	for _, id := range ids {
		keys = append(keys, s.k.dedupe(id))
	}
	res, err := s.pipe.script(ctx, admitScript, keys, ms(claimTTL),
		strconv.FormatFloat(rate.Rate, 'g', -1, 64), rate.Burst).Int64Slice()
	if err != nil {
		return store.Admission{}, s.wrap("admit turn", err)
	}
	if len(res) != 3 {
		return store.Admission{}, fmt.Errorf("admit turn: script returned %d values, want 3", len(res))
	}
	return store.Admission{
		Claimed: res[0] == 1, Allowed: res[1] == 1,
		Wait: time.Duration(res[2]) * time.Microsecond,
	}, nil
}

// Begin implements store.Turns with beginScript; the link's tokens are
// opened here, after the script.
func (t scriptTurns) Begin(ctx context.Context, key, owner string, ttl time.Duration, conv store.ConversationKey) (*store.TurnStart, error) {
	s := t.s
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("begin turn: %w", err)
	}
	if err := codec.Begin(key, owner, ttl); err != nil {
		return nil, err
	}
	start := time.Now()
	keys := []string{s.k.lock(key), s.k.fence(key), s.k.conv(conv), s.k.link(conv.UserKey())}
	res, err := s.pipe.script(ctx, beginScript, keys, owner, ms(ttl)).Slice()
	if err != nil {
		return nil, s.wrap("begin turn", err)
	}
	fence, ok := int64At(res, 0)
	if !ok || (fence > 0 && len(res) != 3) {
		return nil, fmt.Errorf("begin turn: unexpected script reply of %d values", len(res))
	}
	if fence == 0 {
		return nil, fmt.Errorf("begin turn: %w", store.ErrConflict)
	}
	l := store.Lease{Key: key, Owner: owner, Fence: uint64(fence), Expiry: start.Add(ttl)}
	return s.turnStart(ctx, l, conv, res[1], res[2])
}

// Finish implements store.Turns with finishScript.
func (t scriptTurns) Finish(ctx context.Context, l store.Lease, c *store.Conversation, ttl time.Duration, replyID string) error {
	s := t.s
	if err := s.check(); err != nil {
		return fmt.Errorf("finish turn: %w", err)
	}
	if err := codec.Finish(l, c, ttl); err != nil {
		return err
	}
	keys := []string{s.k.lock(l.Key), s.k.replies(), s.k.inbox(), s.k.inboxCounts()}
	var value []byte
	if c != nil {
		var err error
		if value, err = json.Marshal(c); err != nil {
			return fmt.Errorf("finish turn: %w", err)
		}
		keys = append(keys, s.k.conv(c.Key), s.k.convIndex(c.Key.UserKey()))
	}
	ok, err := s.pipe.script(ctx, finishScript, keys,
		l.Owner, strconv.FormatUint(l.Fence, 10), replyID, value, ms(ttl)).Int()
	if err != nil {
		return s.wrap("finish turn", err)
	}
	if ok != 1 {
		return fmt.Errorf("finish turn: %w", store.ErrStaleFence)
	}
	return nil
}

// turnStart decodes the raw conversation and link values read under l.
// If one cannot be decoded, it releases l (best effort, so the caller is
// not left holding a lock it was not told about) and returns the error.
func (s *Store) turnStart(ctx context.Context, l store.Lease, conv store.ConversationKey, rawConv, rawLink any) (*store.TurnStart, error) {
	ts := &store.TurnStart{Lease: l}
	err := func() error {
		if data, ok := rawConv.(string); ok {
			if err := json.Unmarshal([]byte(data), &ts.Conversation); err != nil {
				return fmt.Errorf("decode conversation: %w", err)
			}
			ts.HasConversation = true
		}
		if data, ok := rawLink.(string); ok {
			var err error
			if ts.HasLink, err = codec.BeginLink(s.decodeLink(ctx, &ts.Link, conv.UserKey(), []byte(data))); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		_ = s.Release(ctx, l) // the decode error is the one to report
		return nil, fmt.Errorf("begin turn: %w", err)
	}
	return ts, nil
}

func int64At(res []any, i int) (int64, bool) {
	if i >= len(res) {
		return 0, false
	}
	v, ok := res[i].(int64)
	return v, ok
}

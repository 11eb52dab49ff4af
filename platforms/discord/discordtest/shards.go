package discordtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Gateway close codes of sharding.
const (
	closeInvalidShard     = 4010
	closeShardingRequired = 4011
)

// identifyTolerance is how much shorter than the window two identifies of
// a bucket may arrive apart without a violation: the client spaces them on
// its clock (or its store's), the fake sees them after their network delays.
const identifyTolerance = 250 * time.Millisecond

// WithShards makes the fake a bot that must shard: GET /gateway/bot
// recommends count shards and reports maxConcurrency, an IDENTIFY without a
// shard array, or with fewer shards than count, is closed with 4011
// (sharding required); one with an out-of-range shard id with 4010 (invalid
// shard). More shards than recommended are fine, as on Discord. Each session receives the events of the guilds of its shard,
// (guild_id >> 22) % count, and shard 0 receives direct messages, as on
// Discord.
func WithShards(count, maxConcurrency int) Option {
	return func(s *Server) { s.shards, s.maxConcurrency = max(count, 1), max(maxConcurrency, 1) }
}

// WithIdentifyWindow sets the window of the identify concurrency rule
// (default 5 s, Discord's): within it, at most one IDENTIFY per bucket
// (shard id % max_concurrency), to within identifyTolerance. Identifies that break it are recorded (see
// IdentifyViolations), not refused.
func WithIdentifyWindow(d time.Duration) Option { return func(s *Server) { s.identifyWindow = d } }

// GuildShard returns the shard that receives the events of guild id among
// count shards: (id >> 22) % count.
func GuildShard(guildID string, count int) int {
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || count <= 1 {
		return 0
	}
	return int((id >> 22) % uint64(count))
}

// GuildIDOnShard returns a snowflake guild id, unique per n, whose events
// go to shard of count shards.
func GuildIDOnShard(shard, count, n int) string {
	count = max(count, 1)
	k := uint64(1000*count + n*count + shard)
	return strconv.FormatUint(k<<22|1, 10)
}

// receives reports whether the connection gets the events of guild ("" for
// events outside guilds, such as direct messages).
func (c *gwConn) receives(guild string) bool {
	if c.shardCount <= 1 {
		return true
	}
	if guild == "" {
		return c.shard == 0
	}
	return GuildShard(guild, c.shardCount) == c.shard
}

// guildOf returns the guild_id of an event payload ("" when it has none).
func guildOf(d any) string {
	var b []byte
	switch v := d.(type) {
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(d); err != nil {
			return ""
		}
	}
	var g struct {
		GuildID string `json:"guild_id"`
	}
	_ = json.Unmarshal(b, &g)
	return g.GuildID
}

// shardErrorLocked returns the close code an IDENTIFY gets for its shard
// settings, or 0.
func (s *Server) shardErrorLocked(id Identify) int {
	switch {
	case !id.Sharded && s.shards > 1:
		return closeShardingRequired
	case id.Sharded && (id.ShardCount < 1 || id.Shard < 0 || id.Shard >= id.ShardCount):
		return closeInvalidShard
	case id.Sharded && id.ShardCount < s.shards:
		return closeShardingRequired
	}
	return 0
}

// recordIdentifyLocked records id and checks the concurrency rule.
func (s *Server) recordIdentifyLocked(id Identify) {
	bucket := 0
	if id.Sharded {
		bucket = id.Shard % s.maxConcurrency
	}
	for i := len(s.identifies) - 1; i >= 0; i-- {
		prev := s.identifies[i]
		pb := 0
		if prev.Sharded {
			pb = prev.Shard % s.maxConcurrency
		}
		if pb != bucket {
			continue
		}
		if gap := id.At.Sub(prev.At); gap < s.identifyWindow-identifyTolerance {
			s.identifyViolations = append(s.identifyViolations, fmt.Sprintf(
				"identify of shard %d %v after one in the same bucket %d (max_concurrency %d allows one per %v)",
				id.Shard, gap, bucket, s.maxConcurrency, s.identifyWindow))
		}
		break
	}
	if id.Sharded {
		for c := range s.conns {
			if c.ready && c.shardCount == id.ShardCount && c.shard == id.Shard {
				s.identifyViolations = append(s.identifyViolations, fmt.Sprintf(
					"identify of shard %d of %d while a session of that shard is connected", id.Shard, id.ShardCount))
			}
		}
	}
	s.identifies = append(s.identifies, id)
	s.notifyLocked()
}

// IdentifyViolations lists the identifies that broke the concurrency rule
// (see WithIdentifyWindow) or came for a shard that had a connected session
// (two processes on one shard). Arrival times are the fake's, so a client that
// spaced two identifies by exactly the window may show a gap shorter by
// the difference of their network delays.
func (s *Server) IdentifyViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.identifyViolations...)
}

// ShardSessions returns the shard of every ready gateway session, by
// session (shard -1 for an unsharded session).
func (s *Server) ShardSessions() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, c := range s.readyConnsLocked() {
		if c.shardCount == 0 {
			out = append(out, -1)
		} else {
			out = append(out, c.shard)
		}
	}
	return out
}

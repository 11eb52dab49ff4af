package redis

import (
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// keys builds every Redis key; all start with p. Parts are encoded by
// codec and so never contain '{', '}' or ':'. A "{…}" marks the hash tag
// where a script or transaction touches several keys together.
type keys struct{ p string }

// link: STRING, JSON link with sealed tokens, no TTL.
func (k keys) link(u store.UserKey) string { return k.p + "link:" + codec.User(u) }

// conv: STRING, JSON conversation, PX = the conversation TTL.
func (k keys) conv(c store.ConversationKey) string {
	return k.p + "conv:{" + codec.User(c.UserKey()) + "}:" + codec.ConversationSuffix(c)
}

// convIndex: ZSET of the user's conversation keys scored by expiry (server
// ms); it expires with its last member.
func (k keys) convIndex(u store.UserKey) string { return k.p + "convs:{" + codec.User(u) + "}" }

// state: STRING, JSON PendingLink (interaction handle sealed), PX = the
// state TTL, named by the keyed hash of the id (store.Sealer.HashID),
// never the id.
func (k keys) state(id string) string { return k.p + "state:" + codec.Part(id) }

// dedupe: STRING "1", PX = the claim TTL.
func (k keys) dedupe(id string) string { return k.p + "dedupe:" + codec.Part(id) }

// cancel: STRING "1", PX = the stop request's TTL; one key per reply, so
// every command touches one slot (Cluster-safe).
func (k keys) cancel(replyID string) string { return k.p + "cancel:" + codec.Part(replyID) }

// cancelChannel: the pub/sub channel announcing stop requests (a reply id
// per message); channels are not keys, the prefix keeps deployments apart.
func (k keys) cancelChannel() string { return k.p + "cancels" }

// lock: HASH {owner, fence}, PX = the lease TTL.
func (k keys) lock(key string) string { return k.p + "lock:{" + codec.Part(key) + "}" }

// fence: STRING counter, never expires, so fences never repeat.
func (k keys) fence(key string) string { return k.p + "fence:{" + codec.Part(key) + "}" }

// replies: HASH reply id → JSON InflightReply.
func (k keys) replies() string { return k.p + "replies" }

// budget: HASH {tokens, ts (server µs)}, PX = time until full again.
func (k keys) budget(key string) string { return k.p + "budget:" + codec.Part(key) }

// reservation: STRING theoretical arrival time (server µs, GCRA), PX = time
// until the bucket is full again. Under the prefix's hash tag only, so
// that one Reserve may span buckets (see splitBudgets).
func (k keys) reservation(key string) string { return k.p + "rsv:" + codec.Part(key) }

// install: STRING, JSON install with sealed tokens, no TTL.
func (k keys) install(platform, workspace string) string {
	return k.p + "install:" + codec.Part(platform) + ":" + codec.Part(workspace)
}

// live: ZSET owner → expiry of its liveness record (server ms).
func (k keys) live() string { return k.p + "live" }

// inbox: HASH entry id → JSON codec.InboxRecord (item sealed). inboxCounts:
// HASH conversation encoding → number of its entries. inboxSeq: STRING
// counter of Seq. The three share a hash tag (or the prefix's), so the
// inbox scripts run on Cluster.
func (k keys) inbox() string       { return k.p + "inbox:{inbox}" }
func (k keys) inboxCounts() string { return k.p + "inboxn:{inbox}" }
func (k keys) inboxSeq() string    { return k.p + "inboxseq:{inbox}" }

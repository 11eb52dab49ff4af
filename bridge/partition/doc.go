// Package partition divides numbered partitions (Discord gateway shards)
// among the replicas of a deployment through store leases, and spaces
// session starts through a shared budget. It is platform-neutral: the
// Discord adapter sees it through its ShardClaimer and IdentifyGate
// interfaces, wired in cmd/.
//
// Claimer: each replica holds a member lease (slot k of the members) and
// the leases of its share of the partitions, a contiguous block chosen by
// its rank among the live members (see share). Members renew every TTL/4; a member that
// dies stops renewing, its leases expire within the TTL and the others take
// its partitions at their next round. A replica gives a partition up
// (closing its connection first) before releasing its lease, and connects
// only after acquiring it, so a partition is held by one replica at a time.
//
// Gate: one session start per window (5 s for Discord) per bucket, across
// the deployment, with a store.Budgets token bucket per bucket.
package partition

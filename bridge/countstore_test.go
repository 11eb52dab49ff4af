package bridge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// countingStore wraps a store.Store and counts the round trips of every
// method, for the benchmarks' "store round trips per message".
type countingStore struct {
	store.Store
	calls [numOps]atomic.Int64

	mu    sync.Mutex
	takes []time.Duration // duration of every Take and Reserve
}

type storeOp int

const (
	opGetLink storeOp = iota
	opPutLink
	opUpdateLink
	opDeleteLink
	opGetConversation
	opPutConversation
	opDeleteConversation
	opDeleteUserConversations
	opPutState
	opConsumeState
	opClaim
	opAcquire
	opExtend
	opRelease
	opValidate
	opPutReply
	opDeleteReply
	opListReplies
	opTake
	opReserve
	opAdmit
	opBegin
	opFinish
	opEnter
	opRequestCancel
	opCancelRequested
	opLease
	opReturn
	numOps
)

var opNames = [numOps]string{
	"GetLink", "PutLink", "UpdateLink", "DeleteLink", "GetConversation", "PutConversation",
	"DeleteConversation", "DeleteUserConversations", "PutState", "ConsumeState", "Claim",
	"Acquire", "Extend", "Release", "Validate", "PutReply", "DeleteReply", "ListReplies", "Take",
	"Reserve", "Admit", "Begin", "Finish", "Enter", "RequestCancel", "CancelRequested", "Lease", "Return",
}

func (c *countingStore) add(op storeOp) { c.calls[op].Add(1) }

// snapshot returns the counts by method name.
func (c *countingStore) snapshot() map[string]int64 {
	m := make(map[string]int64, numOps)
	for i := range numOps {
		if n := c.calls[i].Load(); n > 0 {
			m[opNames[i]] = n
		}
	}
	return m
}

func (c *countingStore) reset() {
	for i := range numOps {
		c.calls[i].Store(0)
	}
	c.mu.Lock()
	c.takes = nil
	c.mu.Unlock()
}

func (c *countingStore) Links() store.Links { return countLinks{c.Store.Links(), c} }
func (c *countingStore) Conversations() store.Conversations {
	return countConvs{c.Store.Conversations(), c}
}
func (c *countingStore) States() store.States   { return countStates{c.Store.States(), c} }
func (c *countingStore) Dedupe() store.Dedupe   { return countDedupe{c.Store.Dedupe(), c} }
func (c *countingStore) Locks() store.Locks     { return countLocks{c.Store.Locks(), c} }
func (c *countingStore) Replies() store.Replies { return countReplies{c.Store.Replies(), c} }
func (c *countingStore) Budgets() store.Budgets { return countBudgets{c.Store.Budgets(), c} }
func (c *countingStore) Turns() store.Turns     { return countTurns{c.Store.Turns(), c} }
func (c *countingStore) Cancels() store.Cancels { return countCancels{c.Store.Cancels(), c} }

// countCancels counts the stop requests and checks; Watch is one
// subscription per process, not a round trip per message.
type countCancels struct {
	store.Cancels
	c *countingStore
}

func (x countCancels) Request(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	x.c.add(opRequestCancel)
	return x.Cancels.Request(ctx, id, ttl)
}

func (x countCancels) Requested(ctx context.Context, id string) (bool, error) {
	x.c.add(opCancelRequested)
	return x.Cancels.Requested(ctx, id)
}

type countLinks struct {
	store.Links
	c *countingStore
}

func (l countLinks) GetLink(ctx context.Context, k store.UserKey) (store.Link, error) {
	l.c.add(opGetLink)
	return l.Links.GetLink(ctx, k)
}

func (l countLinks) PutLink(ctx context.Context, link store.Link) error {
	l.c.add(opPutLink)
	return l.Links.PutLink(ctx, link)
}

func (l countLinks) UpdateLink(ctx context.Context, k store.UserKey, fn func(store.Link) (store.Link, error)) (store.Link, error) {
	l.c.add(opUpdateLink)
	return l.Links.UpdateLink(ctx, k, fn)
}

func (l countLinks) DeleteLink(ctx context.Context, k store.UserKey) error {
	l.c.add(opDeleteLink)
	return l.Links.DeleteLink(ctx, k)
}

type countConvs struct {
	store.Conversations
	c *countingStore
}

func (v countConvs) GetConversation(ctx context.Context, k store.ConversationKey) (store.Conversation, error) {
	v.c.add(opGetConversation)
	return v.Conversations.GetConversation(ctx, k)
}

func (v countConvs) PutConversation(ctx context.Context, c store.Conversation, ttl time.Duration) error {
	v.c.add(opPutConversation)
	return v.Conversations.PutConversation(ctx, c, ttl)
}

func (v countConvs) DeleteConversation(ctx context.Context, k store.ConversationKey) error {
	v.c.add(opDeleteConversation)
	return v.Conversations.DeleteConversation(ctx, k)
}

func (v countConvs) DeleteUserConversations(ctx context.Context, u store.UserKey) (int, error) {
	v.c.add(opDeleteUserConversations)
	return v.Conversations.DeleteUserConversations(ctx, u)
}

type countStates struct {
	store.States
	c *countingStore
}

func (s countStates) PutState(ctx context.Context, id string, p store.PendingLink, ttl time.Duration) error {
	s.c.add(opPutState)
	return s.States.PutState(ctx, id, p, ttl)
}

func (s countStates) ConsumeState(ctx context.Context, id string) (store.PendingLink, error) {
	s.c.add(opConsumeState)
	return s.States.ConsumeState(ctx, id)
}

type countDedupe struct {
	store.Dedupe
	c *countingStore
}

func (d countDedupe) Claim(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	d.c.add(opClaim)
	return d.Dedupe.Claim(ctx, id, ttl)
}

type countLocks struct {
	store.Locks
	c *countingStore
}

func (l countLocks) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (store.Lease, error) {
	l.c.add(opAcquire)
	return l.Locks.Acquire(ctx, key, owner, ttl)
}

func (l countLocks) Extend(ctx context.Context, le store.Lease, ttl time.Duration) (store.Lease, error) {
	l.c.add(opExtend)
	return l.Locks.Extend(ctx, le, ttl)
}

func (l countLocks) Release(ctx context.Context, le store.Lease) error {
	l.c.add(opRelease)
	return l.Locks.Release(ctx, le)
}

func (l countLocks) Validate(ctx context.Context, le store.Lease) error {
	l.c.add(opValidate)
	return l.Locks.Validate(ctx, le)
}

type countReplies struct {
	store.Replies
	c *countingStore
}

func (r countReplies) PutReply(ctx context.Context, rec store.InflightReply) error {
	r.c.add(opPutReply)
	return r.Replies.PutReply(ctx, rec)
}

func (r countReplies) DeleteReply(ctx context.Context, id string) error {
	r.c.add(opDeleteReply)
	return r.Replies.DeleteReply(ctx, id)
}

func (r countReplies) ListReplies(ctx context.Context, olderThan time.Time) ([]store.InflightReply, error) {
	r.c.add(opListReplies)
	return r.Replies.ListReplies(ctx, olderThan)
}

type countBudgets struct {
	store.Budgets
	c *countingStore
}

// Local forwards the backend's answer (store.LocalBudgets): counted, its
// budgets are paced as they would be without the count.
func (b countBudgets) Local() bool { return store.BudgetsLocal(b.Budgets) }

func (b countBudgets) Take(ctx context.Context, key string, limit store.Limit, n int) (bool, time.Duration, error) {
	b.c.add(opTake)
	start := time.Now()
	ok, wait, err := b.Budgets.Take(ctx, key, limit, n)
	d := time.Since(start)
	b.c.mu.Lock()
	b.c.takes = append(b.c.takes, d)
	b.c.mu.Unlock()
	return ok, wait, err
}

func (b countBudgets) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	b.c.add(opReserve)
	start := time.Now()
	g, err := b.Budgets.Reserve(ctx, buckets, after)
	d := time.Since(start)
	b.c.mu.Lock()
	b.c.takes = append(b.c.takes, d)
	b.c.mu.Unlock()
	return g, err
}

func (b countBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	b.c.add(opReserve)
	start := time.Now()
	gs, err := b.Budgets.ReserveEach(ctx, reqs)
	d := time.Since(start)
	b.c.mu.Lock()
	b.c.takes = append(b.c.takes, d)
	b.c.mu.Unlock()
	return gs, err
}

func (b countBudgets) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	b.c.add(opLease)
	start := time.Now()
	l, err := b.Budgets.Lease(ctx, bk, want)
	d := time.Since(start)
	b.c.mu.Lock()
	b.c.takes = append(b.c.takes, d)
	b.c.mu.Unlock()
	return l, err
}

func (b countBudgets) Return(ctx context.Context, bk store.Bucket, n int) error {
	b.c.add(opReturn)
	return b.Budgets.Return(ctx, bk, n)
}

type countTurns struct {
	store.Turns
	c *countingStore
}

func (t countTurns) Admit(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit) (store.Admission, error) {
	t.c.add(opAdmit)
	return t.Turns.Admit(ctx, ids, claimTTL, rateKey, rate)
}

func (t countTurns) Enter(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit, e store.InboxEntry, bound int) (store.Admission, error) {
	t.c.add(opEnter)
	return t.Turns.Enter(ctx, ids, claimTTL, rateKey, rate, e, bound)
}

func (t countTurns) Begin(ctx context.Context, key, owner string, ttl time.Duration, conv store.ConversationKey) (*store.TurnStart, error) {
	t.c.add(opBegin)
	return t.Turns.Begin(ctx, key, owner, ttl, conv)
}

func (t countTurns) Finish(ctx context.Context, l store.Lease, c *store.Conversation, ttl time.Duration, replyID string) error {
	t.c.add(opFinish)
	return t.Turns.Finish(ctx, l, c, ttl, replyID)
}

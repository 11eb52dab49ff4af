package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Take implements store.Budgets.
func (s *Store) Take(ctx context.Context, key string, limit store.Limit, n int) (bool, time.Duration, error) {
	if err := codec.Take(limit, n); err != nil {
		return false, 0, err
	}
	var (
		ok   bool
		wait time.Duration
	)
	err := s.do(ctx, "take budget", func(d *Data, now time.Time) error {
		ok, wait = d.take(key, limit, n, now)
		return nil
	})
	return ok, wait, err
}

// take takes n tokens from the bucket of key, or reports how long until
// there will be n (taking nothing).
func (d *Data) take(key string, limit store.Limit, n int, now time.Time) (bool, time.Duration) {
	var prev *codec.Tokens
	if st, ok := getLive(d.tokens, key, now); ok {
		prev = &st
	}
	next, ok, wait, full := codec.TakeTokens(prev, now, limit, n)
	if ok {
		d.tokens[key] = item[codec.Tokens]{v: next, exp: now.Add(full)}
	}
	return ok, wait
}

// Reserve implements store.Budgets, all or none.
func (s *Store) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	if err := codec.Reserve(buckets, after); err != nil || len(buckets) == 0 {
		return store.Grant{OK: err == nil}, err // no buckets: granted, no lock taken
	}
	var g store.Grant
	err := s.do(ctx, "reserve budgets", func(d *Data, now time.Time) error {
		g = d.reserve(buckets, after, now)
		return nil
	})
	return g, err
}

// ReserveEach implements store.Budgets: the requests in order, under one
// lock.
func (s *Store) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	need, err := codec.ReserveEach(reqs)
	if err != nil {
		return nil, err
	}
	if !need {
		return codec.GrantAll(reqs), nil
	}
	gs := make([]store.Grant, len(reqs))
	err = s.do(ctx, "reserve budgets", func(d *Data, now time.Time) error {
		for i, r := range reqs {
			gs[i] = d.reserveWithin(r, now)
			gs[i].Clock = now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}

// reserve is Reserve on d: one token of every bucket, all or none.
func (d *Data) reserve(buckets []store.Bucket, after time.Duration, now time.Time) store.Grant {
	if len(buckets) == 0 {
		return store.Grant{OK: true}
	}
	tats := make([]float64, len(buckets))
	for i, b := range buckets {
		tats[i] = d.gcra[b.Key] // a forgotten bucket is full: 0
	}
	news, g := codec.ReserveAt(buckets, tats, now, after)
	if g.OK {
		for i, b := range buckets {
			d.gcra[b.Key] = news[i]
		}
	}
	return g
}

// reserveWithin is one request of ReserveEach on d (codec.ReserveWithin).
func (d *Data) reserveWithin(r store.Reservation, now time.Time) store.Grant {
	if len(r.Buckets) == 0 {
		return store.Grant{OK: true, At: r.After}
	}
	tats := make([]float64, len(r.Buckets))
	for i, b := range r.Buckets {
		tats[i] = d.gcra[b.Key] // a forgotten bucket is full: 0
	}
	news, g := codec.ReserveWithin(r.Buckets, tats, now, r.After, r.Within)
	if g.OK {
		for i, b := range r.Buckets {
			d.gcra[b.Key] = news[i]
		}
	}
	return g
}

// Lease implements store.Budgets on the Reserve buckets.
func (s *Store) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	if err := codec.LeaseArgs("lease budget", bk, want); err != nil {
		return store.Leased{}, err
	}
	var l store.Leased
	err := s.do(ctx, "lease budget", func(d *Data, now time.Time) error {
		var tat float64
		tat, l.Granted, l.Wait = codec.LeaseAt(d.gcra[bk.Key], now, bk, want)
		if l.Granted > 0 {
			d.gcra[bk.Key] = tat
		}
		return nil
	})
	return l, err
}

// Return implements store.Budgets.
func (s *Store) Return(ctx context.Context, bk store.Bucket, n int) error {
	if err := codec.LeaseArgs("return budget", bk, n); err != nil {
		return err
	}
	return s.do(ctx, "return budget", func(d *Data, now time.Time) error {
		tat, ok := d.gcra[bk.Key]
		if !ok {
			return nil // a forgotten bucket is full
		}
		if tat, keep := codec.ReturnAt(tat, now, bk, n); keep {
			d.gcra[bk.Key] = tat
		} else {
			delete(d.gcra, bk.Key)
		}
		return nil
	})
}

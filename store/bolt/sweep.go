package bolt

import (
	"encoding/json"
	"log/slog"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// sweepLoop deletes expired entries every interval until Close.
func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			n, err := s.sweep()
			if err != nil {
				s.log.Error("sweep expired entries", slog.Any("error", err))
				continue
			}
			if n > 0 {
				s.log.Debug("swept expired entries", slog.Int("deleted", n))
			}
		}
	}
}

// sweep deletes every expired entry in one write transaction and returns
// how many it deleted. Entries that fail to decode are left alone (reads
// report them).
func (s *Store) sweep() (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n = 0
		now := s.now()
		for _, name := range expiringBuckets {
			b := tx.Bucket(name)
			var dead [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var e struct {
					Exp int64 `json:"exp"`
				}
				if json.Unmarshal(v, &e) == nil && expired(e.Exp, now) {
					dead = append(dead, append([]byte(nil), k...))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(dead)
		}
		return nil
	})
	return n, err
}

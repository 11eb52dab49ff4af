package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Take implements store.Budgets with takeScript, on the server's clock.
func (s *Store) Take(ctx context.Context, key string, limit store.Limit, n int) (bool, time.Duration, error) {
	if err := s.check(); err != nil {
		return false, 0, fmt.Errorf("take budget: %w", err)
	}
	if err := codec.Take(limit, n); err != nil {
		return false, 0, err
	}
	res, err := takeScript.Run(ctx, s.c, []string{s.k.budget(key)},
		strconv.FormatFloat(limit.Rate, 'g', -1, 64), limit.Burst, n).Int64Slice()
	if err != nil {
		return false, 0, s.wrap("take budget", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("take budget: script returned %d values, want 2", len(res))
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Microsecond, nil
}

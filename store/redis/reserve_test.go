package redis_test

import (
	"context"
	"errors"
	"net"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

// failKey fails every script call whose first key is key, before it is
// sent.
type failKey struct{ key string }

var errInjected = errors.New("injected failure")

func (f failKey) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (f failKey) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if n := cmd.Name(); (n == "evalsha" || n == "eval") && len(cmd.Args()) > 3 && cmd.Args()[3] == f.key {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

func (f failKey) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestSplitReserveRefundsOnError checks that the Cluster fallback of
// Reserve gives back the tokens it took when a later bucket's call fails:
// all or none holds for errors too, not only for short buckets.
func TestSplitReserveRefundsOnError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, be := openReal(t)
	budgets := redis.SplitTurnsStore{Store: s}.Budgets()
	slow := store.Limit{Rate: 0.001, Burst: 1}
	a := store.Bucket{Key: "a", Limit: slow}
	b := store.Bucket{Key: "b", Limit: slow}
	redis.AddHook(s, failKey{key: be.Prefix + "rsv:b"})
	if _, err := budgets.Reserve(ctx, []store.Bucket{b, a}, 0); !errors.Is(err, errInjected) {
		t.Fatalf("Reserve with b failing: %v, want the injected error", err)
	}
	g, err := budgets.Reserve(ctx, []store.Bucket{a}, 0)
	if err != nil || !g.OK {
		t.Fatalf("a after a failed Reserve of a and b: %+v, %v; want its token given back", g, err)
	}
}

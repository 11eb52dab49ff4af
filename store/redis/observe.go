package redis

import (
	"context"
	"errors"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// observeHook reports every command and pipeline round trip to an
// Observer. A missing key (redis.Nil) is no failure.
type observeHook struct{ obs store.Observer }

var _ goredis.Hook = observeHook{}

func (h observeHook) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

func (h observeHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		h.obs(cmd.Name(), time.Since(start), failure(err))
		return err
	}
}

func (h observeHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.obs("pipeline", time.Since(start), failure(err))
		return err
	}
}

func failure(err error) error {
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	return err
}

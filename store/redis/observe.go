package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// observeHook reports every command and pipeline round trip to an
// Observer. A missing key (redis.Nil) is no failure. The handshake go-redis
// runs on each new connection (HELLO, CLIENT SETINFO, AUTH, SELECT, which
// an older server may refuse and go-redis then does without) is no store
// round trip and is not reported.
type observeHook struct{ obs store.Observer }

// handshake are the commands of a connection's set-up.
var handshake = map[string]bool{"hello": true, "client": true, "auth": true, "select": true, "readonly": true}

var _ goredis.Hook = observeHook{}

func (h observeHook) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

func (h observeHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if handshake[cmd.Name()] {
			return next(ctx, cmd)
		}
		start := time.Now()
		err := next(ctx, cmd)
		h.obs(cmd.Name(), time.Since(start), failure(err))
		return err
	}
}

func (h observeHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		setup := true
		for _, c := range cmds {
			setup = setup && handshake[c.Name()]
		}
		if setup {
			return next(ctx, cmds)
		}
		start := time.Now()
		err := next(ctx, cmds)
		h.obs("pipeline", time.Since(start), failure(err))
		return err
	}
}

// failure is err as the Observer sees it: a missing key (redis.Nil) and
// a script not yet cached on the node (NOSCRIPT, which go-redis answers by
// sending the script itself) are no failures.
func failure(err error) error {
	if errors.Is(err, goredis.Nil) || (err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")) {
		return nil
	}
	return err
}

package redis_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

// The adapter must fit goredis.SetLogger (checked at compile time; not
// called, since it changes process-wide state).
var _ = func() { goredis.SetLogger(redis.GoRedisLogger{}) }

func TestGoRedisLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := redis.GoRedisLogger{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	l.Printf(t.Context(), "dial %s: %d attempts", "127.0.0.1:1", 5)
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, `msg=go-redis`) ||
		!strings.Contains(out, `message="dial 127.0.0.1:1: 5 attempts"`) {
		t.Errorf("log line = %q", out)
	}
}

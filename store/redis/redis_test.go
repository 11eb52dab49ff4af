package redis_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// openReal opens a store on the real Redis under a fresh prefix whose
// keys are deleted at cleanup, logging to the test.
func openReal(t *testing.T) (*redis.Store, *storetest.Backend) {
	t.Helper()
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{Logger: testutil.Logger(t, slog.LevelDebug)})
	return b.Open(t).(*redis.Store), b
}

func TestSuites(t *testing.T) {
	t.Parallel()
	storetest.RunAll(t, storetest.Redis)
}

// dumpPrefix returns every key of b and every value it holds, by type, as
// the server stores them.
func dumpPrefix(t *testing.T, b *storetest.Backend) []byte {
	t.Helper()
	ctx, c := t.Context(), b.Raw()
	keys := b.Keys(t)
	var buf bytes.Buffer
	for _, k := range keys {
		buf.WriteString(k + "\n")
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			v, err := c.Get(ctx, k).Result()
			if err != nil && !errors.Is(err, goredis.Nil) {
				t.Fatal(err)
			}
			buf.WriteString(v)
		case "hash":
			for f, v := range c.HGetAll(ctx, k).Val() {
				buf.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			buf.WriteString(strings.Join(c.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "set":
			buf.WriteString(strings.Join(c.SMembers(ctx, k).Val(), "\n"))
		case "none":
		default:
			t.Fatalf("key %q has unexpected type %s", k, typ)
		}
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

func TestTokensEncryptedInRedis(t *testing.T) {
	t.Parallel()
	s, b := openReal(t)
	storetest.RunEncryptionTest(t, s, func(t *testing.T) []byte { return dumpPrefix(t, b) })
}

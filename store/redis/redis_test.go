package redis_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// testURL is the real Redis the suites run against.
func testURL() string {
	if u := os.Getenv("SECONDME_BRIDGE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

var (
	probeOnce sync.Once
	probeErr  error
)

// realRedis returns a raw client on the test Redis, or skips the test when
// none answers (fails instead when CI=true).
func realRedis(t *testing.T) goredis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(testURL())
	if err != nil {
		t.Fatalf("SECONDME_BRIDGE_TEST_REDIS_URL: %v", err)
	}
	c := goredis.NewUniversalClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		probeErr = c.Ping(ctx).Err()
	})
	if probeErr != nil {
		msg := "no Redis at " + redacted(testURL()) + " (" + probeErr.Error() + "); " +
			"start redis-server or set SECONDME_BRIDGE_TEST_REDIS_URL to run the Redis store tests"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip(msg)
	}
	return c
}

func testSealer(t *testing.T) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(bytes.Repeat([]byte{0x24}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// scanKeys lists the keys matching pattern on every master.
func scanKeys(ctx context.Context, c goredis.UniversalClient, pattern string) ([]string, error) {
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, n goredis.UniversalClient) error {
		it := n.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	if cc, ok := c.(*goredis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error { return scan(ctx, n) })
		return keys, err
	}
	return keys, scan(ctx, c)
}

// openReal opens a store on the real Redis under a fresh prefix and
// deletes the prefix's keys at cleanup. It returns the store, the raw
// client and the prefix.
func openReal(t *testing.T) (*redis.Store, goredis.UniversalClient, string) {
	t.Helper()
	raw := realRedis(t)
	prefix := "secondme-bridge-test:" + strings.ToLower(rand.Text()[:12]) + ":"
	s, err := redis.Open(t.Context(), testURL(), testSealer(t), redis.Options{KeyPrefix: prefix, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("close: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := scanKeys(ctx, raw, prefix+"*")
		if err != nil {
			t.Errorf("cleanup: scan: %v", err)
		}
		for _, k := range keys {
			if err := raw.Del(ctx, k).Err(); err != nil {
				t.Errorf("cleanup: del: %v", err)
			}
		}
	})
	return s, raw, prefix
}

func newStore(t *testing.T) store.Store {
	s, _, _ := openReal(t)
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	realRedis(t)
	storetest.RunTests(t, newStore)
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	realRedis(t)
	storetest.RunConcurrencyTests(t, newStore)
}

// dumpPrefix returns every key under prefix and every value it holds, by
// type, as the server stores them.
func dumpPrefix(t *testing.T, c goredis.UniversalClient, prefix string) []byte {
	t.Helper()
	ctx := t.Context()
	keys, err := scanKeys(ctx, c, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
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
	s, raw, prefix := openReal(t)
	storetest.RunEncryptionTest(t, s, func(t *testing.T) []byte { return dumpPrefix(t, raw, prefix) })
}

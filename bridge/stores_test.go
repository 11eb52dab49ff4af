package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

// storeKinds are the backends the end-to-end tests run against.
var storeKinds = []string{"bolt", "redis"}

// testRedisURL is the real Redis the tests use.
func testRedisURL() string {
	if u := os.Getenv("SECONDME_BRIDGE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

var (
	redisProbe    sync.Once
	redisProbeErr error
)

// requireRedis skips the test when no Redis answers, unless CI=true.
func requireRedis(t testing.TB) {
	t.Helper()
	redisProbe.Do(func() {
		opts, err := redis.ParseURL(testRedisURL())
		if err != nil {
			redisProbeErr = err
			return
		}
		c := goredis.NewUniversalClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		redisProbeErr = c.Ping(ctx).Err()
	})
	if redisProbeErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at SECONDME_BRIDGE_TEST_REDIS_URL is required in CI: %v", redisProbeErr)
		}
		t.Skipf("no Redis (%v): start redis-server or set SECONDME_BRIDGE_TEST_REDIS_URL", redisProbeErr)
	}
}

func testSealer(t testing.TB) *store.Sealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newStore opens a fresh store of the kind: bolt in a temporary directory,
// or Redis under a key prefix unique to the test.
func newStore(t testing.TB, kind string) store.Store {
	t.Helper()
	st, _ := newStoreWithPrefix(t, kind, "")
	return st
}

// newStoreWithPrefix is newStore; for Redis, prefix "" picks a fresh one,
// and the prefix is returned so that a second Bridge can share the store.
func newStoreWithPrefix(t testing.TB, kind, prefix string) (store.Store, string) {
	t.Helper()
	return openStore(t, kind, prefix, testRedisURL())
}

// newStoreWithURL opens a fresh Redis store at redisURL.
func newStoreWithURL(t testing.TB, redisURL string) (store.Store, string) {
	t.Helper()
	return openStore(t, "redis", "", redisURL)
}

func openStore(t testing.TB, kind, prefix, redisURL string) (store.Store, string) {
	t.Helper()
	switch kind {
	case "bolt":
		st, err := bolt.Open(filepath.Join(t.TempDir(), "bridge.db"), testSealer(t), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st, ""
	case "redis":
		requireRedis(t)
		if prefix == "" {
			buf := make([]byte, 6)
			_, _ = rand.Read(buf)
			prefix = "bridgetest:" + hex.EncodeToString(buf) + ":"
		}
		st, err := redis.Open(context.Background(), redisURL, sharedSealer(t, prefix), redis.Options{KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cleanRedis(prefix)
			_ = st.Close()
		})
		return st, prefix
	}
	t.Fatalf("unknown store kind %q", kind)
	return nil, ""
}

var (
	sealersMu sync.Mutex
	sealers   = map[string]*store.Sealer{}
)

// sharedSealer returns one sealer per Redis prefix, so that two stores on
// the same prefix read each other's tokens.
func sharedSealer(t testing.TB, prefix string) *store.Sealer {
	sealersMu.Lock()
	defer sealersMu.Unlock()
	if s, ok := sealers[prefix]; ok {
		return s
	}
	s := testSealer(t)
	sealers[prefix] = s
	return s
}

// cleanRedis deletes the keys under prefix.
func cleanRedis(prefix string) {
	opts, err := redis.ParseURL(testRedisURL())
	if err != nil {
		return
	}
	c := goredis.NewUniversalClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			c.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

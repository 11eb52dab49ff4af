package storetest_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// Each Open of a backend is a handle on the same data, as a restarted
// process (or another replica) sees it.
func TestBackendOpensShareData(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := storetest.NewBackend(t, kind, storetest.Options{})
			first := b.Open(t)
			key := store.UserKey{Platform: "discord", User: "kit"}
			if err := first.Links().PutLink(ctx, store.Link{Key: key, Token: store.Token{AccessToken: "tok"}}); err != nil {
				t.Fatal(err)
			}
			if err := first.Close(); err != nil { // bolt: one handle at a time
				t.Fatal(err)
			}
			got, err := b.Open(t).Links().GetLink(ctx, key)
			if err != nil || got.Token.AccessToken != "tok" {
				t.Errorf("second handle: %+v, %v; want the first handle's link", got, err)
			}
		})
	}
}

// A Redis backend's keys are gone once its test has ended.
func TestRedisBackendCleansUp(t *testing.T) {
	t.Parallel()
	storetest.RequireRedis(t)
	var prefix string
	t.Run("test", func(t *testing.T) {
		b := storetest.NewBackend(t, storetest.Redis, storetest.Options{HashTag: true})
		prefix = b.Prefix
		if _, err := b.Open(t).Dedupe().Claim(t.Context(), "ev", time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := len(b.Keys(t)); n != 1 {
			t.Fatalf("%d keys under %s, want the claim's", n, prefix)
		}
	})
	opts, err := redis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewUniversalClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	keys, err := c.Keys(ctx, "\\"+prefix[:len(prefix)-2]+"\\}:*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left under %s after the test: %v, %v", prefix, keys, err)
	}
}

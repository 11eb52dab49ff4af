package redis_test

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	_, _, prefix := openReal(t) // for the prefix and its cleanup
	storetest.RunKeyRotationTest(t, func(t *testing.T, sealer *store.Sealer) store.Store {
		s, err := redis.Open(t.Context(), testURL(), sealer, redis.Options{KeyPrefix: prefix, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// Every Redis key and value under the prefix holds no token, one-time id
// or interaction handle in the clear.
func TestNoSecretInRedis(t *testing.T) {
	t.Parallel()
	s, raw, prefix := openReal(t)
	storetest.RunAtRestTest(t, s, func(t *testing.T) []byte { return dumpPrefix(t, raw, prefix) })
}

package redis_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// openReal opens a store on the real Redis under a fresh prefix whose
// keys are deleted at cleanup, logging to the test.
func openReal(t *testing.T) (*redis.Store, *storetest.Backend) {
	t.Helper()
	return openRealWith(t, storetest.NewSealer(t))
}

// openRealWith is openReal with sealer (whose HashID names the states).
func openRealWith(t *testing.T, sealer *store.Sealer) (*redis.Store, *storetest.Backend) {
	t.Helper()
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{Sealer: sealer, Logger: testutil.Logger(t, slog.LevelDebug)})
	return b.Open(t).(*redis.Store), b
}

func TestSuites(t *testing.T) {
	t.Parallel()
	storetest.RunAll(t, storetest.Redis)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hashTag returns the part of key Redis Cluster hashes.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// noTTL is the PTTL go-redis reports for a key that never expires (-2ns
// for a missing key).
const noTTL = -1 * time.Nanosecond

// pttlSlack covers Redis's whole milliseconds in a TTL's lower bound.
const pttlSlack = 5 * time.Millisecond

// checkPTTL checks the PTTL of key, read from the server now. want noTTL:
// the key exists and never expires. Otherwise the key was given TTL want
// by a call that began at since, so it has at most want left (never
// more), and at least want less the time that has passed since then: the
// bound is as tight as the machine was fast, with no fixed tolerance.
func checkPTTL(t *testing.T, c goredis.UniversalClient, key string, want time.Duration, since time.Time) {
	t.Helper()
	got, err := c.PTTL(t.Context(), key).Result()
	elapsed := time.Since(since)
	switch {
	case err != nil:
		t.Errorf("PTTL(%s): %v", key, err)
	case want == noTTL:
		if got != noTTL {
			t.Errorf("PTTL(%s) = %v, want a key without expiry (%v)", key, got, noTTL)
		}
	case got < 0 && elapsed >= want:
		t.Logf("PTTL(%s): key gone %v after it was set with %v; too slow to judge its TTL", key, elapsed, want)
	case got > want || got < want-elapsed-pttlSlack:
		t.Errorf("PTTL(%s) = %v, want in [%v, %v]: set with %v at most %v ago",
			key, got, want-elapsed-pttlSlack, want, want, elapsed.Round(time.Millisecond))
	}
}

// waitGone polls until key no longer exists (it expired), failing t
// after deadline; it returns when it saw the key gone.
func waitGone(t *testing.T, c goredis.UniversalClient, key string, deadline time.Time) time.Time {
	t.Helper()
	for {
		n, err := c.Exists(t.Context(), key).Result()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", key, err)
		}
		now := time.Now()
		if n == 0 {
			return now
		}
		if now.After(deadline) {
			t.Fatalf("%s still exists at the deadline; its TTL did not expire it", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

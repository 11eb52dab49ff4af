package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/memory"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

// Kind names a backend.
type Kind string

// The backends.
const (
	Memory Kind = "memory"
	Bolt   Kind = "bolt"
	Redis  Kind = "redis"
)

// Kinds lists every backend, for tests that run on each.
var Kinds = []Kind{Memory, Bolt, Redis}

// RedisURL returns the real Redis tests use: SECONDME_BRIDGE_TEST_REDIS_URL,
// by default redis://127.0.0.1:6379/0.
func RedisURL() string {
	if u := os.Getenv("SECONDME_BRIDGE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

var (
	redisProbe    sync.Once
	redisProbeErr error
)

// RequireRedis skips t when no Redis answers at RedisURL, with a message
// saying how to run the test; under CI=true it fails t instead, since CI
// must run every backend. The server is probed once per process.
func RequireRedis(t testing.TB) {
	t.Helper()
	redisProbe.Do(func() {
		redisProbeErr = pingRedis(RedisURL())
	})
	if redisProbeErr == nil {
		return
	}
	skipUnlessCI(t, "no Redis at SECONDME_BRIDGE_TEST_REDIS_URL ("+redisProbeErr.Error()+"); "+
		"start redis-server or set SECONDME_BRIDGE_TEST_REDIS_URL to run this test")
}

// The environment variables naming the Redis topologies that
// .ci/redis-topologies starts.
const (
	ClusterEnv  = "SECONDME_BRIDGE_TEST_REDIS_CLUSTER_URL"
	SentinelEnv = "SECONDME_BRIDGE_TEST_REDIS_SENTINEL_URL"
)

// TopologyURL returns the Redis URL in env (ClusterEnv or SentinelEnv).
// Unset, it skips t, or fails it under CI=true: CI must run the topology
// tests.
func TopologyURL(t testing.TB, env string) string {
	t.Helper()
	raw := os.Getenv(env)
	if raw == "" {
		skipUnlessCI(t, env+" is not set; run .ci/redis-topologies (see .ci/run) to start a local Redis Cluster and Sentinel and export it")
	}
	return raw
}

// skipUnlessCI skips t with msg, or fails it under CI=true, where every
// backend must be tested.
func skipUnlessCI(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
}

func pingRedis(url string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	c := goredis.NewUniversalClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// NewSealer returns a Sealer with a fresh random key.
func NewSealer(t testing.TB) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer([]byte(rand.Text() + rand.Text())[:store.KeySize])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Options tune NewBackend. The zero value is ready to use.
type Options struct {
	// Sealer seals the stores' tokens. Default: NewSealer.
	Sealer *store.Sealer
	// Logger goes to the stores. Default: theirs (discarding).
	Logger *slog.Logger
	// RedisURL is the Redis of a Redis backend (RequireRedis is checked
	// only for the default). Default: RedisURL().
	RedisURL string
	// HashTag puts a Redis backend's whole prefix in a hash tag, so that
	// on a Redis Cluster every key lands in one slot.
	HashTag bool
	// BudgetsInMemory opens a bolt backend as the binary does
	// (bolt.Options.BudgetsInMemory): its reservation buckets in memory.
	BudgetsInMemory bool
}

// Backend is the data of one test store: a memory Data, a bolt file in a
// temporary directory, or a fresh key prefix on Redis whose keys are
// deleted when the test ends. Every Open is a handle on the same data, as
// a second replica (or a restarted process) would have.
type Backend struct {
	Kind   Kind
	Sealer *store.Sealer
	// Path is the bolt file; Prefix and URL are the Redis key prefix and
	// server.
	Path, Prefix, URL string

	log        *slog.Logger
	memBudgets bool // bolt: Options.BudgetsInMemory
	data       *memory.Data
	raw        goredis.UniversalClient
}

// NewBackend prepares empty data of kind for t (skipping t, or failing it
// under CI=true, when kind is Redis and no Redis answers).
func NewBackend(t testing.TB, kind Kind, o Options) *Backend {
	t.Helper()
	b := &Backend{Kind: kind, Sealer: o.Sealer, log: o.Logger, memBudgets: o.BudgetsInMemory}
	if b.Sealer == nil {
		b.Sealer = NewSealer(t)
	}
	switch kind {
	case Memory:
		b.data = memory.NewData()
	case Bolt:
		b.Path = filepath.Join(t.TempDir(), "store.db")
	case Redis:
		b.URL = o.RedisURL
		if b.URL == "" {
			RequireRedis(t)
			b.URL = RedisURL()
		}
		opts, err := redis.ParseURL(b.URL)
		if err != nil {
			t.Fatalf("redis url: %v", err)
		}
		b.raw = goredis.NewUniversalClient(opts)
		b.Prefix = "storetest:" + strings.ToLower(rand.Text()[:12])
		if o.HashTag {
			b.Prefix = "{" + b.Prefix + "}"
		}
		b.Prefix += ":"
		t.Cleanup(func() {
			defer b.raw.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			keys, err := b.keys(ctx)
			if err == nil && len(keys) > 0 {
				pipe := b.raw.Pipeline() // one DEL a key: a cluster refuses keys of several slots
				for _, k := range keys {
					pipe.Del(ctx, k)
				}
				_, err = pipe.Exec(ctx)
			}
			if err != nil {
				t.Errorf("delete the test's Redis keys under %s: %v", b.Prefix, err)
			}
		})
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	return b
}

// Open returns a fresh, empty store of kind, closed when t ends.
func Open(t testing.TB, kind Kind) store.Store {
	t.Helper()
	return NewBackend(t, kind, Options{}).Open(t)
}

// Open opens a handle on b's data with b.Sealer, closed when t ends (or
// before, by the test; ErrClosed is then ignored). A bolt file takes one
// handle at a time: close the last before opening the next.
func (b *Backend) Open(t testing.TB) store.Store {
	t.Helper()
	return b.OpenWith(t, b.Sealer)
}

// OpenWith is Open with another sealer.
func (b *Backend) OpenWith(t testing.TB, sealer *store.Sealer) store.Store {
	t.Helper()
	var (
		s   store.Store
		err error
	)
	switch b.Kind {
	case Memory:
		s, err = memory.Open(sealer, memory.Options{Data: b.data, Logger: b.log})
	case Bolt:
		s, err = bolt.Open(b.Path, sealer, bolt.Options{Logger: b.log, BudgetsInMemory: b.memBudgets})
	case Redis:
		s, err = redis.Open(context.Background(), b.URL, sealer, redis.Options{KeyPrefix: b.Prefix, Logger: b.log})
	}
	if err != nil {
		t.Fatalf("open %s store: %v", b.Kind, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("close %s store: %v", b.Kind, err)
		}
	})
	return s
}

// Raw is a client on a Redis backend's server (nil for the others),
// closed when the test ends.
func (b *Backend) Raw() goredis.UniversalClient { return b.raw }

// Keys lists a Redis backend's keys (every key under Prefix).
func (b *Backend) Keys(t testing.TB) []string {
	t.Helper()
	keys, err := b.keys(t.Context())
	if err != nil {
		t.Fatalf("list the Redis keys under %s: %v", b.Prefix, err)
	}
	return keys
}

// keys scans every master for the keys under the prefix.
func (b *Backend) keys(ctx context.Context) ([]string, error) {
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c goredis.UniversalClient) error {
		pattern := strings.NewReplacer("{", `\{`, "}", `\}`).Replace(b.Prefix) + "*"
		it := c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	if cc, ok := b.raw.(*goredis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error { return scan(ctx, n) })
		return keys, err
	}
	return keys, scan(ctx, b.raw)
}

// RunAll runs every suite on kind: conformance and concurrency on fresh
// stores, and, on data of their own, RunEncryptionTest and RunAtRestTest
// (on Dump) and RunKeyRotationTest (reopening with OpenWith).
func RunAll(t *testing.T, kind Kind) {
	t.Helper()
	open := func(t *testing.T) store.Store { return Open(t, kind) }
	t.Run("Conformance", func(t *testing.T) {
		t.Parallel()
		RunTests(t, open)
	})
	t.Run("Concurrency", func(t *testing.T) {
		t.Parallel()
		RunConcurrencyTests(t, open)
	})
	t.Run("Encryption", func(t *testing.T) {
		t.Parallel()
		b := NewBackend(t, kind, Options{})
		RunEncryptionTest(t, b.Open(t), b.Dump)
	})
	t.Run("AtRest", func(t *testing.T) {
		t.Parallel()
		b := NewBackend(t, kind, Options{})
		RunAtRestTest(t, b.Open(t), b.Dump)
	})
	t.Run("KeyRotation", func(t *testing.T) {
		t.Parallel()
		RunKeyRotationTest(t, NewBackend(t, kind, Options{}).OpenWith)
	})
	if kind != Bolt {
		t.Run("CancelReplicas", func(t *testing.T) {
			t.Parallel()
			RunCancelReplicaTest(t, NewBackend(t, kind, Options{}))
		})
	}
}

// Dump returns every byte b's data holds, as the backend holds it: the
// whole bolt file, every Redis key and value under the prefix (by type),
// or the memory Data's dump. Tests of what is kept at rest search it.
func (b *Backend) Dump(t testing.TB) []byte {
	t.Helper()
	switch b.Kind {
	case Memory:
		return b.data.Dump()
	case Bolt:
		data, err := os.ReadFile(b.Path)
		if err != nil {
			t.Fatalf("read the bolt file: %v", err)
		}
		return data
	}
	ctx, c := t.Context(), b.raw
	var buf bytes.Buffer
	for _, k := range b.Keys(t) {
		buf.WriteString(k + "\n")
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatalf("dump redis key: %v", err)
		}
		switch typ {
		case "string":
			buf.WriteString(c.Get(ctx, k).Val())
		case "hash":
			for f, v := range c.HGetAll(ctx, k).Val() {
				buf.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			buf.WriteString(strings.Join(c.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "set":
			buf.WriteString(strings.Join(c.SMembers(ctx, k).Val(), "\n"))
		case "list":
			buf.WriteString(strings.Join(c.LRange(ctx, k, 0, -1).Val(), "\n"))
		case "none":
		default:
			t.Fatalf("redis key %q has unexpected type %s", k, typ)
		}
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

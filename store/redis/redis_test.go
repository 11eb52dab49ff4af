package redis_test

import (
	"log/slog"
	"testing"

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

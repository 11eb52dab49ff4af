package testutil

import (
	"strings"
	"sync"
	"testing"
)

func TestSyncBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _, _ = b.Write([]byte("x\n")) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "x\n"); n != 50 {
		t.Errorf("got %d writes, want 50", n)
	}
}

package codec

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
)

func TestUnreadableWarnsOncePerRecord(t *testing.T) {
	t.Parallel()
	var buf testutil.SyncBuffer
	u := NewUnreadable(slog.New(slog.NewTextHandler(&buf, nil)))
	for range 5 {
		u.Warn(t.Context(), "link", "discord::1", "not linked", []byte("v1"))
	}
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings for one record read five times, want 1", n)
	}
	u.Warn(t.Context(), "link", "discord::2", "not linked", []byte("v1"))
	u.Warn(t.Context(), "link", "discord::1", "not linked", []byte("v2")) // rewritten record
	if n := strings.Count(buf.String(), "level=WARN"); n != 3 {
		t.Errorf("%d warnings, want 3 (one per distinct record)", n)
	}
}

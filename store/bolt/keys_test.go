package bolt_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rotate.db")
	storetest.RunKeyRotationTest(t, func(t *testing.T, sealer *store.Sealer) store.Store {
		s, err := bolt.Open(path, sealer, bolt.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// The whole bolt file, free pages included, holds no token, one-time id or
// interaction handle in the clear.
func TestNoSecretInTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rest.db")
	s := openStore(t, path, bolt.Options{})
	storetest.RunAtRestTest(t, s, func(t *testing.T) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	})
}

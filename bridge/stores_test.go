package bridge

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// storeKinds are the backends the end-to-end tests run against.
var storeKinds = []string{string(storetest.Memory), string(storetest.Bolt), string(storetest.Redis)}

// newStore opens a fresh store of the kind, closed when t ends (see
// storetest.Open).
func newStore(t testing.TB, kind string) store.Store {
	t.Helper()
	return storetest.Open(t, storetest.Kind(kind))
}

package store_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestSealerPreviousKeys(t *testing.T) {
	t.Parallel()
	a, b := bytes.Repeat([]byte{1}, store.KeySize), bytes.Repeat([]byte{2}, store.KeySize)
	old, err := store.NewSealer(a)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal([]byte("secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	onlyB, _ := store.NewSealer(b)
	if _, err := onlyB.Open(sealed, []byte("aad")); !errors.Is(err, store.ErrUnseal) {
		t.Fatalf("open under another key: err = %v, want ErrUnseal", err)
	}
	rotated, err := store.NewSealer(b, a)
	if err != nil {
		t.Fatal(err)
	}
	plain, current, err := rotated.OpenKey(sealed, []byte("aad"))
	if err != nil || string(plain) != "secret" || current {
		t.Fatalf("OpenKey under a previous key = %q, current %v, %v; want secret, false", plain, current, err)
	}
	resealed, _ := rotated.Seal(plain, []byte("aad"))
	if _, current, err := rotated.OpenKey(resealed, []byte("aad")); err != nil || !current {
		t.Errorf("re-sealed value: current %v, %v; want current", current, err)
	}
	if _, err := onlyB.Open(resealed, []byte("aad")); err != nil {
		t.Errorf("re-sealed value does not open under the current key alone: %v", err)
	}
	if _, err := rotated.Open(sealed, []byte("other")); !errors.Is(err, store.ErrUnseal) {
		t.Errorf("previous key with the wrong aad: err = %v, want ErrUnseal", err)
	}
	if _, err := store.NewSealer(b, []byte("short")); err == nil {
		t.Error("NewSealer accepted a previous key of the wrong size")
	}

	// Keyed id hashes: current first, then the previous keys; neither is
	// the id, and they differ per key.
	hs := rotated.HashIDs("state:abc")
	if len(hs) != 2 || hs[0] != rotated.HashID("state:abc") || hs[1] != old.HashID("state:abc") || hs[0] == hs[1] {
		t.Errorf("HashIDs = %q", hs)
	}
	if bytes.Contains([]byte(hs[0]+hs[1]), []byte("abc")) {
		t.Error("the hash shows the id")
	}
	if same, _ := store.NewSealer(b, b); len(same.HashIDs("x")) != 1 {
		t.Error("a previous key equal to the current one is kept twice")
	}
}

// BenchmarkOpen measures opening a sealed token under the current key and
// under a previous key (one failed authentication first), the extra cost
// of a record not yet re-sealed after a key change.
func BenchmarkOpen(b *testing.B) {
	cur, prev := bytes.Repeat([]byte{1}, store.KeySize), bytes.Repeat([]byte{2}, store.KeySize)
	old, _ := store.NewSealer(prev)
	s, _ := store.NewSealer(cur, prev)
	token := []byte("lba_at_" + string(bytes.Repeat([]byte("x"), 120)))
	aad := []byte("secondme-bridge/link-token/v1\x00discord::1\x00access")
	current, _ := s.Seal(token, aad)
	previous, _ := old.Seal(token, aad)
	for name, sealed := range map[string][]byte{"current": current, "previous": previous} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Open(sealed, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

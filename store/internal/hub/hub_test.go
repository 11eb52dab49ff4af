package hub

import (
	"context"
	"testing"
)

func TestHubDeliversAndSignalsMisses(t *testing.T) {
	var h Hub
	ctx, cancel := context.WithCancel(t.Context())
	ch := h.Watch(ctx)
	if got := <-ch; got != "" {
		t.Fatalf("first = %q, want the start marker", got)
	}
	h.Publish("a")
	if got := <-ch; got != "a" {
		t.Fatalf("got %q, want a", got)
	}
	for range Buffer + 5 {
		h.Publish("x")
	}
	for range Buffer {
		<-ch
	}
	h.Publish("b")
	if got := <-ch; got != "" {
		t.Fatalf("after an overflow got %q, want the missed marker", got)
	}
	if got := <-ch; got != "b" {
		t.Fatalf("got %q, want b", got)
	}
	cancel()
	for range ch {
	}
	h.Publish("after") // no watcher left: nothing blocks
}

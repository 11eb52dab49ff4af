package platformtest_test

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

// The fake records the Stop control a message shows, so the bridge's tests
// can assert it is there while streaming and gone after the final edit.
func TestStopControlRecorded(t *testing.T) {
	t.Parallel()
	p := platformtest.New(platformtest.Options{})
	pl := p.As()
	ctx := t.Context()
	stop := &platforms.StopControl{ReplyID: "r1", Label: "Stop"}
	ref, err := pl.Send(ctx, to, platforms.Message{Text: "a", Stop: stop})
	if err != nil {
		t.Fatal(err)
	}
	stop.Label = "changed by the caller"
	if m, _ := p.Message(ref.ID); m.Stop == nil || m.Stop.ReplyID != "r1" || m.Stop.Label != "Stop" {
		t.Fatalf("after send: stop = %+v", m.Stop)
	}
	if _, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, ref, platforms.Message{Text: "ab"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := p.Message(ref.ID); m.Stop != nil {
		t.Fatalf("the final edit left stop %+v", m.Stop)
	}
	calls := p.Calls()
	if len(calls) != 2 || calls[0].Stop == nil || calls[1].Stop != nil {
		t.Fatalf("calls = %+v", calls)
	}
}

package discord

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// bucketKeys lists the bucket ids discordgo's REST client keeps (its map
// is unexported and never pruned; reflect reads it).
func bucketKeys(a *Adapter) []string {
	rl := a.s.Ratelimiter
	rl.Lock()
	defer rl.Unlock()
	var keys []string
	for _, k := range reflect.ValueOf(rl).Elem().FieldByName("buckets").MapKeys() {
		keys = append(keys, k.String())
	}
	return keys
}

// TestInteractionsLeaveNoBucketBehind: answering, following up, editing
// and deleting through many interactions' tokens leaves no bucket named
// after an interaction in discordgo's REST client, whose buckets live as
// long as the session: the calls share interactionShards buckets, so
// memory no longer grows with every interaction answered.
func TestInteractionsLeaveNoBucketBehind(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	var tokens []string
	for range 40 {
		in, ev := command(t, srv, rec, "link", nil)
		tokens = append(tokens, in.Token)
		to := platforms.Target{Channel: ev.Channel, User: ev.User.ID, Interaction: ev.Interaction}
		ref, err := a.Send(ctx, to, platforms.Message{Text: "first"})
		mustNoErr(t, err, "first answer")
		f, err := a.Send(ctx, to, platforms.Message{Text: "second"})
		mustNoErr(t, err, "follow-up")
		mustNoErr(t, a.SendEphemeral(ctx, to, platforms.Message{Text: "private"}), "ephemeral follow-up")
		_, err = a.Edit(ctx, f, platforms.Message{Text: "second (edited)"})
		mustNoErr(t, err, "edit follow-up")
		mustNoErr(t, a.Delete(ctx, f), "delete follow-up")
		mustNoErr(t, a.Delete(ctx, ref), "delete original")
		if o, _ := srv.OriginalResponse(in.ID); !o.Deleted || o.Content != "first" {
			t.Fatalf("original = %+v", o)
		}
	}
	shards := 0
	for _, k := range bucketKeys(a) {
		for _, tok := range tokens {
			if strings.Contains(k, tok) || strings.Contains(k, tokenHash(tok)) {
				t.Fatalf("bucket %q is named after an interaction", k)
			}
		}
		if strings.HasPrefix(k, "interaction:") {
			shards++
		}
	}
	if shards == 0 || shards > interactionShards {
		t.Fatalf("%d interaction buckets, want 1 to %d", shards, interactionShards)
	}
	seen := map[string]bool{}
	for i := range 20000 {
		seen[interactionBucket(fmt.Sprintf("token-%d", i))] = true
	}
	if len(seen) != interactionShards {
		t.Fatalf("interactionBucket names %d buckets, want %d", len(seen), interactionShards)
	}
}

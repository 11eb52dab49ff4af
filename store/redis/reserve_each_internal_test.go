package redis

import (
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// A script reply that does not fit the requests is an error, never a
// panic or a grant made up.
func TestParseReserveEachHostile(t *testing.T) {
	one := store.Reservation{Buckets: []store.Bucket{{Key: "a"}}, Within: time.Millisecond}
	two := store.Reservation{Buckets: []store.Bucket{{Key: "a"}, {Key: "b"}}, After: time.Second}
	reqs := []store.Reservation{one, two}
	const clock = 1_800_000_000_123_456
	gs, err := parseReserveEach(reqs, []int64{clock, 1, 300, 0, 0, 7, 1, 1})
	if err != nil || !gs[0].OK || gs[0].At != 300*time.Microsecond || gs[1].OK || gs[1].At != time.Second ||
		gs[1].Wait != 7*time.Microsecond || !slices.Equal(gs[1].Short, []int{1}) {
		t.Fatalf("well-formed reply: %+v, %v", gs, err)
	}
	for _, g := range gs {
		if !g.Clock.Equal(time.UnixMicro(clock)) {
			t.Fatalf("grant's clock %v, want the reply's %v", g.Clock, time.UnixMicro(clock))
		}
	}
	for _, res := range [][]int64{
		nil,
		{1, 300, 0, 0, 7, 1, 1},         // no clock: the first grant read as one
		{0, 1, 300, 0, 0, 7, 1, 1},      // a zero clock
		{-5, 1, 300, 0, 0, 7, 1, 1},     // a negative clock
		{clock},                         // a clock and nothing else
		{clock, 1, 0},                   // one grant for two requests
		{clock, 1, 0, 1, 0, 1, 0},       // one too many
		{clock, 1, 0, 0, 0, 7, 1, 2},    // short index out of range
		{clock, 1, 0, 0, 0, 7, 1, -1},   // negative index
		{clock, 1, 0, 0, 0, 7, 3, 0, 1}, // more short buckets than the request has
		{clock, 1, 0, 0, 0, 7, 0},       // refused with no short bucket
		{clock, 1, 0, 0, 0, 0, 1, 0},    // refused with no wait
		{clock, 1, 0, 0, 0, 7},          // cut short
		{clock, 2, 0, 1, 0},             // unknown flag
		{clock, 1, 1001, 1, 0},          // a delay beyond the request's within
		{clock, 1, -1, 1, 0},            // a negative delay
		{clock, 1, 0, 1, 1},             // a delay for a request without within
		{clock, 1},                      // no delay
	} {
		if gs, err := parseReserveEach(reqs, res); err == nil {
			t.Errorf("reply %v accepted: %+v", res, gs)
		}
	}
}

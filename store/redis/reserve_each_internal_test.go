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
	gs, err := parseReserveEach(reqs, []int64{1, 300, 0, 0, 7, 1, 1})
	if err != nil || !gs[0].OK || gs[0].At != 300*time.Microsecond || gs[1].OK || gs[1].At != time.Second ||
		gs[1].Wait != 7*time.Microsecond || !slices.Equal(gs[1].Short, []int{1}) {
		t.Fatalf("well-formed reply: %+v, %v", gs, err)
	}
	for _, res := range [][]int64{
		nil,
		{1, 0},                   // one grant for two requests
		{1, 0, 1, 0, 1, 0},       // one too many
		{1, 0, 0, 0, 7, 1, 2},    // short index out of range
		{1, 0, 0, 0, 7, 1, -1},   // negative index
		{1, 0, 0, 0, 7, 3, 0, 1}, // more short buckets than the request has
		{1, 0, 0, 0, 7, 0},       // refused with no short bucket
		{1, 0, 0, 0, 0, 1, 0},    // refused with no wait
		{1, 0, 0, 0, 7},          // cut short
		{2, 0, 1, 0},             // unknown flag
		{1, 1001, 1, 0},          // a delay beyond the request's within
		{1, -1, 1, 0},            // a negative delay
		{1, 0, 1, 1},             // a delay for a request without within
		{1},                      // no delay
	} {
		if gs, err := parseReserveEach(reqs, res); err == nil {
			t.Errorf("reply %v accepted: %+v", res, gs)
		}
	}
}

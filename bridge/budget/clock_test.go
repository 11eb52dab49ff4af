package budget

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// The store's clock is pinned by its fast round trips; a slow one is then
// placed within the fast one's width, not its own; a reading that
// contradicts what is known starts again; the bounds widen with time; a
// round trip without a reading tells nothing.
func TestStoreClockBounds(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	ms := func(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }
	offset := 7 * time.Second // the store's clock runs 7 s ahead of ours
	var c storeClock
	if _, ok := c.width(t0); ok {
		t.Fatal("width known before any round trip")
	}
	// No reading: the round trip's own bounds, nothing learnt.
	if e, l := c.observe(t0, t0.Add(ms(30)), time.Time{}); !e.Equal(t0) || !l.Equal(t0.Add(ms(30))) {
		t.Fatalf("no reading: [%v, %v], want the round trip", e, l)
	}
	if _, ok := c.width(t0); ok {
		t.Fatal("width known from a round trip without a reading")
	}
	// A fast round trip: decided 0.1 ms after sending.
	sent := t0
	e, l := c.observe(sent, sent.Add(ms(0.2)), sent.Add(ms(0.1)+offset))
	if !e.Equal(sent) || !l.Equal(sent.Add(ms(0.2))) {
		t.Fatalf("first round trip: [%v, %v], want its own bounds", e, l)
	}
	if w, ok := c.width(sent.Add(ms(0.2))); !ok || w != ms(0.2) {
		t.Fatalf("width after one fast round trip %v %v, want 0.2 ms", w, ok)
	}
	// A slow round trip 100 ms later (40 ms, decided 30 ms after sending,
	// a slow return): placed within the fast one's width, widened by 100
	// ms of drift (50 µs each side).
	sent = t0.Add(ms(100))
	decided := sent.Add(ms(30))
	e, l = c.observe(sent, sent.Add(ms(40)), decided.Add(offset))
	if e.Before(decided.Add(-ms(0.3))) || l.After(decided.Add(ms(0.3))) || e.After(decided) || l.Before(decided) {
		t.Fatalf("slow round trip decided at +30 ms placed in [%v, %v] (+%v, +%v), want within 0.3 ms of it",
			e, l, e.Sub(sent), l.Sub(sent))
	}
	// The spend interval of tokens due 50 ms after that decision, with a
	// 25 ms grace: nearly the whole grace, where the round trip alone
	// (40 ms, more than the grace) would leave none.
	from, until := SpendInterval(e, l, ms(50), SpendWindow)
	if until.Sub(from) < SpendWindow-ms(0.5) {
		t.Fatalf("spend interval %v, want nearly the grace %v", until.Sub(from), SpendWindow)
	}
	if f, u := SpendInterval(sent, sent.Add(ms(40)), ms(50), SpendWindow); !f.After(u) {
		t.Fatalf("the round trip alone left [%v, %v]; the test means one longer than the grace", f, u)
	}
	// Widening: a second later the offset is known within 1 ms more.
	w0, _ := c.width(sent.Add(ms(40)))
	if w1, _ := c.width(sent.Add(ms(1040))); w1-w0 < ms(0.99) || w1-w0 > ms(1.01) {
		t.Fatalf("width grew by %v in a second, want 1 ms (500 ppm each side)", w1-w0)
	}
	// The store's clock steps 5 s back: the reading contradicts the
	// bounds, which start again from this round trip alone.
	sent = t0.Add(ms(2000))
	e, l = c.observe(sent, sent.Add(ms(10)), sent.Add(ms(5)+offset-5*time.Second))
	if !e.Equal(sent) || !l.Equal(sent.Add(ms(10))) {
		t.Fatalf("after a step: [%v, %v], want the round trip's own bounds", e, l)
	}
	if w, _ := c.width(sent.Add(ms(10))); w != ms(10) {
		t.Fatalf("width after a step %v, want the round trip's 10 ms", w)
	}
	// An answer before its sending (a clock gone back on our side) is
	// taken as it is, and learns nothing.
	if e, l := c.observe(sent.Add(ms(5)), sent, sent.Add(offset)); !e.Equal(sent.Add(ms(5))) || !l.Equal(sent) {
		t.Fatalf("answer before sending: [%v, %v]", e, l)
	}
}

// slowBudgets delays the answer of a ReserveEach by `delay` (after the
// store decided), and hides the store's clock reading when hide is set.
type slowBudgets struct {
	store.Budgets
	delay *atomic.Int64
	hide  bool
}

func (b slowBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	gs, err := b.Budgets.ReserveEach(ctx, reqs)
	time.Sleep(time.Duration(b.delay.Load()))
	if b.hide {
		for i := range gs {
			gs[i].Clock = time.Time{}
		}
	}
	return gs, err
}

type slowStore struct {
	store.Store
	b slowBudgets
}

func (s slowStore) Budgets() store.Budgets { return s.b }

// With a store that reports its clock, an intermediate update's tokens
// are still reserved ahead, spendable at its moment, through a round trip
// that took longer than their spend grace; and the pacer keeps reserving
// ahead after it. Without the store's reading the same round trip leaves
// tokens that cannot be spent in time, and the pacer stops reserving
// ahead (the update would take its tokens at its moment, a round trip on
// its path). On the memory store and on Redis.
func TestReserveAheadThroughASlowRoundTrip(t *testing.T) {
	for _, kind := range []storetest.Kind{storetest.Memory, storetest.Redis} {
		t.Run(string(kind), func(t *testing.T) {
			for _, hide := range []bool{false, true} {
				st := storetest.Open(t, kind) // a fresh store (and Redis keys) per case
				var delay atomic.Int64
				p := New(Deps{Store: slowStore{Store: st, b: slowBudgets{Budgets: st.Budgets(), delay: &delay, hide: hide}}})
				const lead = 100 * time.Millisecond
				// A channel's budget (1/s, burst 5: the full 25 ms grace)
				// and a bot's ample one.
				budgets := func(i int) []platforms.Budget {
					return []platforms.Budget{
						{Key: fmt.Sprintf("clock-test:channel:%d:%s", i, kind), Rate: 1, Burst: 5},
						{Key: "clock-test:bot:" + string(kind), Rate: 1000, Burst: 1000},
					}
				}
				// Fast round trips first, as a loaded store's usual ones:
				// at least 10, and more while a hiccup of a loaded
				// machine keeps the round-trip statistics high.
				for i := 0; i < 10 || !p.CanReserveAhead(budgets(0), lead); i++ {
					if i == 200 {
						t.Fatalf("hide=%v: not reserving ahead after 200 round trips (usual %v)", hide, p.stats.high())
					}
					at := time.Now().Add(lead)
					if h, reason, _ := p.ReserveInterim(t.Context(), budgets(i), at, true); h == nil {
						t.Fatalf("hide=%v: fast reservation %d skipped: %s", hide, i, reason)
					}
				}
				// One round trip 40 ms long (a stall of the store's host),
				// more than the grace.
				delay.Store(int64(40 * time.Millisecond))
				bs := budgets(-1) // a channel of its own
				at := time.Now().Add(lead)
				h, reason, _ := p.ReserveInterim(t.Context(), bs, at, true)
				delay.Store(0)
				if h == nil {
					t.Fatalf("hide=%v: slow reservation skipped: %s", hide, reason)
				}
				usable := !h.From.After(at) && h.Usable(Keys(bs), at, at)
				ahead := p.CanReserveAhead(bs, lead)
				if hide {
					if usable || ahead {
						t.Fatalf("without the store's clock: tokens usable at the update's moment %v, reserving ahead %v; "+
							"want neither (the test's round trip must outlast the grace)", usable, ahead)
					}
					continue
				}
				if !usable {
					t.Fatalf("tokens reserved through a 40 ms round trip spendable from %v until %v, want the update's moment %v in it",
						h.From.Sub(at), h.until.Sub(at), 0)
				}
				if !ahead {
					t.Fatalf("stopped reserving ahead after one slow round trip (uncertainty %v)", p.uncertainty())
				}
			}
		})
	}
}

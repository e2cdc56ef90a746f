package graph_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/storetest"
)

// BenchmarkIngestOrdersPlus is BenchmarkIngestOrders (3-line orders, 100 to a recordEvents
// call, 1,000 members) on two servers side by side: one where no member is PLUS, one where
// every other member is, whose orders also write a PLUS bonus entry per line. Each operation
// posts one batch to each, alternating which goes first, and times them apart, so a load
// that comes and goes on the machine falls on both alike. The target: PLUS half
// within 10% of none (plus/none ≥ 0.90).
func BenchmarkIngestOrdersPlus(b *testing.B) {
	type side struct {
		a       *api
		tok     string
		elapsed time.Duration
	}
	setup := func(every int) *side {
		db := storetest.Open(b, benchBackend(b))
		a := newAPI(b, db)
		for i := range benchMembers {
			ext := fmt.Sprintf("bm%04d", i)
			a.register(ext, nil)
			if every > 0 && i%every == 0 {
				a.grantPlus(ext, "ANNUAL", plus.SourcePurchase, 14900, "buy-"+ext)
			}
		}
		a.clock.Advance(time.Minute)
		return &side{a: a, tok: a.token(auth.RoleService, "bench")}
	}
	none, half := setup(0), setup(2)
	seq := 0
	post := func(s *side, n int) {
		evs := make([]map[string]any, 100)
		for i := range evs {
			k := n*100 + i
			evs[i] = at(orderEvent(fmt.Sprintf("b%d", k), fmt.Sprintf("bm%04d", k%benchMembers), fmt.Sprintf("BO%d", k), "WEB",
				ln("a", "PHONES", 129900), ln("b", "BOOKS", 5800), ln("c", "FOOD", 23000)), s.a.now())
		}
		start := time.Now()
		r := s.a.do(s.tok, recordMutation, map[string]any{"events": evs})
		s.elapsed += time.Since(start)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data["recordEvents"]), `"ACCEPTED"`) {
			b.Fatalf("%+v", r.Errors)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		first, second := none, half
		if i%2 == 1 {
			first, second = half, none
		}
		post(first, seq)
		post(second, seq)
		seq++
	}
	rate := func(s *side) float64 { return float64(b.N*100) / s.elapsed.Seconds() }
	b.ReportMetric(rate(none), "none-events/s")
	b.ReportMetric(rate(half), "half-plus-events/s")
	b.ReportMetric(rate(half)/rate(none), "plus/none")
}

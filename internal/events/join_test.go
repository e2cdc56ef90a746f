package events_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

// webOrder is a one-line web order of ¥580: 58 points (DOMAIN "Earning": 10 % of the paid
// amount floored to ¥10) for a member without PLUS.
func webOrder(key, ext, orderID string, at time.Time) events.Input {
	return events.Input{IdempotencyKey: key, ExternalID: ext, Kind: payload.OrderCompleted, OccurredAt: at, Channel: "WEB",
		Body: payload.Body{OrderID: orderID, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: []payload.Line{
			{SKU: "a", Category: "BOOKS", PaidCents: 58000, ProductType: "PHYSICAL"}}}}
}

// TestJoinedSlicesOfOneMember: 13 calls, each one order of member "a", come at once. The
// first leads alone; it is held until the 12 others wait, and they then share one
// transaction (two groups in all). Among the 13: orders k0–k9, k3 and k7 sent again with
// the same body, and k5's key with another order. Whatever the order of arrival: 10 orders
// ACCEPTED with 58 points each, the two repeats DUPLICATE, one of the k5 pair CONFLICT — so
// the balance is 580, and each accepted order's entry is there once.
func TestJoinedSlicesOfOneMember(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		c.register(t, "a")
		at := c.clk.Now().Add(-time.Hour)
		var in []events.Input
		for i := range 10 {
			in = append(in, webOrder(key(i), "a", "O"+key(i), at))
		}
		in = append(in, webOrder(key(3), "a", "O"+key(3), at), webOrder(key(7), "a", "O"+key(7), at), webOrder(key(5), "a", "OTHER", at))

		var groups atomic.Int32
		events.SetBeforeGroup(c.svc, func() {
			if groups.Add(1) == 1 {
				for give := time.Now().Add(10 * time.Second); events.Waiting(c.svc) < len(in)-1; time.Sleep(time.Millisecond) {
					if time.Now().After(give) {
						t.Errorf("%d calls waiting after 10 s, want %d", events.Waiting(c.svc), len(in)-1)
						return
					}
				}
			}
		})
		res := make([]events.Result, len(in))
		var wg sync.WaitGroup
		for i, ev := range in {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := c.svc.Record(c.ctx, []events.Input{ev})
				if err != nil {
					t.Error(err)
					return
				}
				res[i] = r[0]
			}()
		}
		wg.Wait()
		if got := groups.Load(); got != 2 {
			t.Errorf("%d groups, want 2: the leader alone, then the 12 that waited", got)
		}
		count := map[events.Status]int{}
		for i, r := range res {
			count[r.Status]++
			if r.Status == events.Rejected && (r.Err == nil || r.Err.Code != usererr.Conflict || strings.Join(r.Err.Field, ".") != "input.events.0.idempotencyKey") {
				t.Errorf("call %d: %+v, want CONFLICT at input.events.0.idempotencyKey", i, r.Err)
			}
		}
		if count[events.Accepted] != 10 || count[events.Duplicate] != 2 || count[events.Rejected] != 1 {
			t.Errorf("answers %v, want 10 ACCEPTED, 2 DUPLICATE, 1 REJECTED", count)
		}
		for _, pair := range [][2]int{{3, 10}, {7, 11}} {
			if res[pair[0]].Outcome.Points != res[pair[1]].Outcome.Points || res[pair[0]].Outcome.Points != 58 {
				t.Errorf("order %s and its repeat: %+v and %+v, want 58 points each", key(pair[0]), res[pair[0]].Outcome, res[pair[1]].Outcome)
			}
		}
		m := db.Client.Member.Query().Where(member.ExternalID("a")).OnlyX(c.ctx)
		bal, err := points.NewLedger(db.Client, db.Dialect, c.clk, nil).Balance(c.ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Total != 580 {
			t.Errorf("balance %+v, want a total of 10 × 58 = 580", bal)
		}
		var entries int
		if err := db.SQL.QueryRow("SELECT COUNT(*) FROM point_entries WHERE member_id = ?", m.ID).Scan(&entries); err != nil {
			t.Fatal(err)
		}
		if entries != 10 {
			t.Errorf("%d entries, want one per accepted order: 10", entries)
		}
	})
}

func key(i int) string { return "k" + string(rune('0'+i)) }

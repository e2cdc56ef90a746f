package graph_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const recordMutation = `mutation($events: [EventInput!]!) {
  recordEvents(input: {events: $events}) {
    results { idempotencyKey status code message field points pendingPoints debtPoints withholdCents }
    userErrors { code message }
  }
}`

type eventResult struct {
	IdempotencyKey string
	Status         string
	Code           *string
	Message        *string
	Field          []string
	Points         int
	PendingPoints  int
	DebtPoints     int
	WithholdCents  int
}

func (a *api) record(events ...map[string]any) []eventResult {
	a.t.Helper()
	var out struct {
		RecordEvents struct {
			Results    []eventResult
			UserErrors []userError
		}
	}
	a.must(a.token(auth.RoleService, "orders"), recordMutation, map[string]any{"events": events}, &out)
	if len(out.RecordEvents.UserErrors) > 0 {
		a.t.Fatalf("recordEvents: %+v", out.RecordEvents.UserErrors)
	}
	return out.RecordEvents.Results
}

func (a *api) now() string { return a.clock.Now().Format(time.RFC3339) }

func orderEvent(key, member, orderID, channel string, lines ...map[string]any) map[string]any {
	return map[string]any{"idempotencyKey": key, "externalId": member, "kind": "ORDER_COMPLETED", "channel": channel,
		"orderId": orderID, "orderType": "NORMAL", "paymentMethod": "CASH", "lines": lines}
}

func ln(sku, category string, paid int) map[string]any {
	return map[string]any{"sku": sku, "category": category, "paidCents": paid, "productType": "PHYSICAL"}
}

func at(ev map[string]any, t string) map[string]any { ev["occurredAt"] = t; return ev }

type pointsView struct {
	Balance, Pending, Debt, Expiring int
	Entries                          struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				Amount      int
				Kind        string
				Funding     string
				Description string
			}
		}
	}
}

func (a *api) points(member string) pointsView {
	a.t.Helper()
	var out struct{ Member struct{ Points pointsView } }
	a.must(a.token(auth.RoleAdmin, ""), `query($m: String!) { member(externalId: $m) { points {
		balance pending debt expiring(withinDays: 400)
		entries(first: 50) { totalCount edges { node { amount kind funding description } } } } } }`,
		map[string]any{"m": member}, &out)
	return out.Member.Points
}

func TestRecordEventsEarnsAndReplays(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		now := a.now()
		res := a.record(
			at(orderEvent("o1", "alice", "O-1", "WEB", ln("s1", "PHONES", 123400), ln("s2", "FOOD", 5700)), now),
			at(orderEvent("o2", "nobody", "O-2", "WEB", ln("s1", "PHONES", 100)), now),
			at(orderEvent("o3", "alice", "O-3", "WEB", ln("s1", "SPACESHIPS", 100)), now),
			at(orderEvent("o4", "alice", "O-4", "WEB", ln("s1", "PHONES", -5)), now),
			at(map[string]any{"idempotencyKey": "c1", "externalId": "alice", "kind": "CHECK_IN", "channel": "APP"}, now),
			at(map[string]any{"idempotencyKey": "c2", "externalId": "alice", "kind": "CHECK_IN", "channel": "APP"}, now),
			at(map[string]any{"idempotencyKey": "r1", "externalId": "alice", "kind": "REVIEW_POSTED", "channel": "APP", "orderId": "O-1", "skus": []string{"s1"}}, now),
			at(map[string]any{"idempotencyKey": "r2", "externalId": "alice", "kind": "REVIEW_POSTED", "channel": "APP", "orderId": "O-9", "skus": []string{"s1"}}, now),
			at(map[string]any{"idempotencyKey": "l1", "externalId": "alice", "kind": "LOGIN", "channel": "APP", "lines": []any{ln("x", "PHONES", 1)}}, now),
			at(map[string]any{"idempotencyKey": "f1", "externalId": "alice", "kind": "CHECK_IN", "channel": "APP"}, a.clock.Now().Add(time.Hour).Format(time.RFC3339)),
		)
		want := []struct {
			status string
			code   string
			points int
		}{
			{"ACCEPTED", "", 128}, {"REJECTED", "NOT_FOUND", 0}, {"REJECTED", "INVALID_ARGUMENT", 0}, {"REJECTED", "INVALID_ARGUMENT", 0},
			{"ACCEPTED", "", 5}, {"ACCEPTED", "", 0}, {"ACCEPTED", "", 10}, {"REJECTED", "NOT_FOUND", 0},
			{"REJECTED", "INVALID_ARGUMENT", 0}, {"REJECTED", "INVALID_ARGUMENT", 0},
		}
		for i, w := range want {
			r := res[i]
			code := ""
			if r.Code != nil {
				code = *r.Code
				if r.Message == nil || *r.Message == "" || len(r.Field) == 0 {
					t.Errorf("event %d: rejection without message or field: %+v", i, r)
				}
			}
			if r.Status != w.status || code != w.code || r.Points != w.points {
				t.Errorf("event %d (%s): %s %s %d, want %s %s %d", i, r.IdempotencyKey, r.Status, code, r.Points, w.status, w.code, w.points)
			}
		}
		p := a.points("alice")
		if p.Balance != 143 || p.Entries.TotalCount != 4 {
			t.Fatalf("after the batch: balance %d, %d entries; want 143 and 4", p.Balance, p.Entries.TotalCount)
		}
		// A replay returns the first outcome and changes nothing; a different body under a
		// used key is refused.
		again := a.record(at(orderEvent("o1", "alice", "O-1", "WEB", ln("s1", "PHONES", 123400), ln("s2", "FOOD", 5700)), now))
		if again[0].Status != "DUPLICATE" || again[0].Points != 128 {
			t.Errorf("replay: %+v", again[0])
		}
		changed := a.record(at(orderEvent("o1", "alice", "O-1", "WEB", ln("s1", "PHONES", 999900)), now))
		if changed[0].Status != "REJECTED" || *changed[0].Code != "CONFLICT" {
			t.Errorf("same key, other body: %+v", changed[0])
		}
		sameOrder := a.record(at(orderEvent("o1-bis", "alice", "O-1", "WEB", ln("s1", "PHONES", 123400)), now))
		if sameOrder[0].Status != "REJECTED" || *sameOrder[0].Code != "ALREADY_EXISTS" {
			t.Errorf("order completed twice under two keys: %+v", sameOrder[0])
		}
		if p2 := a.points("alice"); p2.Balance != 143 || p2.Entries.TotalCount != 4 {
			t.Errorf("replays changed the ledger: %+v", p2)
		}
		for _, e := range p.Entries.Edges {
			if e.Node.Description == "" || e.Node.Funding != "PLATFORM" {
				t.Errorf("entry without a reason or funding: %+v", e.Node)
			}
		}
	})
}

// TestConcurrentReplay sends the same batch ten times at once: state changes once.
func TestConcurrentReplay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		for i := range 5 {
			a.register(fmt.Sprintf("m%d", i), nil)
		}
		now := a.now()
		var batch []map[string]any
		for i := range 20 {
			batch = append(batch, at(orderEvent(fmt.Sprintf("k%d", i), fmt.Sprintf("m%d", i%5), fmt.Sprintf("O%d", i), "APP",
				ln("a", "BOOKS", 10000+i*1000), ln("b", "TOYS", 60000)), now))
		}
		var wg sync.WaitGroup
		statuses := make([][]eventResult, 10)
		for i := range 10 {
			wg.Go(func() { statuses[i] = a.record(batch...) })
		}
		wg.Wait()
		accepted := map[string]int{}
		for _, rs := range statuses {
			for _, r := range rs {
				if r.Status == "ACCEPTED" {
					accepted[r.IdempotencyKey]++
				} else if r.Status != "DUPLICATE" {
					t.Errorf("%s: %s %v", r.IdempotencyKey, r.Status, deref(r.Message))
				}
			}
		}
		total := 0
		for i := range 5 {
			p := a.points(fmt.Sprintf("m%d", i))
			total += p.Balance
		}
		want := 0
		for i := range 20 {
			want += (10000+i*1000)/1000 + 60 + 10*boolInt(i < 5) // purchase + first mobile order of the day per member
		}
		if len(accepted) != 20 || total != want {
			t.Errorf("accepted %d distinct keys (%v); points %d, want %d", len(accepted), accepted, total, want)
		}
		for k, n := range accepted {
			if n != 1 {
				t.Errorf("%s accepted %d times", k, n)
			}
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

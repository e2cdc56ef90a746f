package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
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

const spendMutation = `mutation($input: SpendPointsInput!) {
  spendPoints(input: $input) { entry { amount kind description } replayed balance userErrors { field code message } }
}`

type change struct {
	Entry *struct {
		Amount      int
		Kind        string
		Description string
	}
	Replayed   bool
	Balance    *int
	UserErrors []userError
}

func (a *api) change(role auth.Role, mutation, field string, input map[string]any) change {
	a.t.Helper()
	var out map[string]change
	a.must(a.token(role, "ops"), mutation, map[string]any{"input": input}, &out)
	return out[field]
}

func (a *api) adjust(member string, pts int, key string) change {
	return a.change(auth.RoleAdmin, `mutation($input: AdjustPointsInput!) {
		adjustPoints(input: $input) { entry { amount kind description } replayed balance userErrors { field code message } } }`,
		"adjustPoints", map[string]any{"externalId": member, "points": pts, "reason": "goodwill for a late delivery", "idempotencyKey": key})
}

func codeOf(c change) string {
	if len(c.UserErrors) == 0 {
		return ""
	}
	return c.UserErrors[0].Code
}

func TestSpendQuoteReverse(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		if c := a.adjust("alice", 2500, "adj-1"); codeOf(c) != "" || *c.Balance != 2500 || c.Entry.Kind != "ADJUSTMENT" {
			t.Fatalf("adjust: %+v", c)
		}
		quote := func(amount int) (int, int) {
			var out struct {
				PointsQuote struct{ MaxPoints, MaxDeductionCents, Balance int }
			}
			a.must(a.token(auth.RoleService, ""), `query($a: Int!) { pointsQuote(externalId: "alice", orderAmountCents: $a) { maxPoints maxDeductionCents balance } }`,
				map[string]any{"a": amount}, &out)
			return out.PointsQuote.MaxPoints, out.PointsQuote.MaxDeductionCents
		}
		// 2,500 points; an order of ¥30 allows ¥15 = 1,500 points → one step of 1,000.
		if p, c := quote(3000); p != 1000 || c != 1000 {
			t.Errorf("quote ¥30: %d points, %d cents; want 1000, 1000", p, c)
		}
		if p, _ := quote(100000); p != 2000 {
			t.Errorf("quote ¥1,000 with 2,500 points: %d, want 2000", p)
		}
		if p, _ := quote(1000); p != 0 {
			t.Errorf("quote ¥10: %d, want 0", p)
		}
		spend := func(pts, amount int, purpose, key string) change {
			return a.change(auth.RoleService, spendMutation, "spendPoints", map[string]any{"externalId": "alice", "points": pts,
				"orderAmountCents": amount, "purpose": purpose, "idempotencyKey": key, "orderId": "O-" + key})
		}
		for _, tc := range []struct {
			pts, amount int
			purpose     string
			code        string
		}{
			{1500, 100000, "ORDER_DEDUCTION", "INVALID_ARGUMENT"},  // not a multiple of 1,000
			{2000, 3000, "ORDER_DEDUCTION", "FAILED_PRECONDITION"}, // more than half the order
			{3000, 0, "EXCHANGE", "FAILED_PRECONDITION"},           // more than the balance
			{0, 0, "EXCHANGE", "INVALID_ARGUMENT"},
		} {
			if c := spend(tc.pts, tc.amount, tc.purpose, fmt.Sprintf("bad-%d-%d", tc.pts, tc.amount)); codeOf(c) != tc.code || c.Entry != nil {
				t.Errorf("spend %d on %d (%s): %+v, want %s", tc.pts, tc.amount, tc.purpose, c.UserErrors, tc.code)
			}
		}
		c := spend(2000, 100000, "ORDER_DEDUCTION", "s1")
		if codeOf(c) != "" || c.Entry.Amount != -2000 || *c.Balance != 500 {
			t.Fatalf("deduction: %+v", c)
		}
		if again := spend(2000, 100000, "ORDER_DEDUCTION", "s1"); !again.Replayed || *again.Balance != 500 {
			t.Errorf("replayed spend: %+v", again)
		}
		if other := spend(1000, 100000, "ORDER_DEDUCTION", "s1"); codeOf(other) != "CONFLICT" {
			t.Errorf("same key, other spend: %+v", other)
		}
		// Below 1,000 points no deduction at all, though exchange works.
		if c := spend(0+1000, 100000, "ORDER_DEDUCTION", "s2"); codeOf(c) != "FAILED_PRECONDITION" {
			t.Errorf("deduction with 500 points: %+v", c)
		}
		if c := spend(300, 0, "EXCHANGE", "s3"); codeOf(c) != "" || *c.Balance != 200 {
			t.Errorf("exchange: %+v", c)
		}
		reverse := func(spendKey, key string) change {
			return a.change(auth.RoleService, `mutation($input: ReverseSpendInput!) {
				reverseSpend(input: $input) { entry { amount kind description } replayed balance userErrors { field code message } } }`,
				"reverseSpend", map[string]any{"spendIdempotencyKey": spendKey, "idempotencyKey": key})
		}
		if r := reverse("s1", "r1"); codeOf(r) != "" || r.Entry.Amount != 2000 || r.Entry.Kind != "SPEND_REVERSAL" || *r.Balance != 2200 {
			t.Errorf("reverse: %+v", r)
		}
		if r := reverse("s1", "r2"); codeOf(r) != "FAILED_PRECONDITION" {
			t.Errorf("second reversal under a new key: %+v", r)
		}
		if r := reverse("nope", "r3"); codeOf(r) != "NOT_FOUND" {
			t.Errorf("reversal of an unknown spend: %+v", r)
		}
		if c := a.adjust("alice", -5000, "adj-2"); codeOf(c) != "FAILED_PRECONDITION" {
			t.Errorf("adjustment below zero: %+v", c)
		}
		if c := a.change(auth.RoleAdmin, `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { userErrors { field code } replayed } }`,
			"adjustPoints", map[string]any{"externalId": "alice", "points": 10, "reason": "", "idempotencyKey": "adj-3"}); codeOf(c) != "INVALID_ARGUMENT" {
			t.Errorf("adjustment without a reason: %+v", c)
		}
		p := a.points("alice")
		if p.Balance != 2200 || p.Entries.TotalCount != 4 || p.Entries.Edges[0].Node.Kind != "SPEND_REVERSAL" {
			t.Errorf("ledger: %+v", p)
		}
	})
}

// TestExpiryAndRefunds: points of year N last until the end of year N+1 in Shanghai, are
// worth nothing from then on even before the job runs, and a refund of spent points leaves
// a debt that the next earnings pay.
func TestExpiryAndRefunds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("bob", nil)
		a.clock.Set(time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC))
		res := a.record(at(orderEvent("o1", "bob", "O-1", "WEB", ln("tv", "APPLIANCES", 500000), ln("pan", "KITCHEN", 20000)), a.now()))
		if res[0].Points != 520 {
			t.Fatalf("order: %+v", res[0])
		}
		// 2026-12-31 23:59:59 in Shanghai is 15:59:59 UTC: still valid, and expiring soon.
		a.clock.Set(time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC))
		if p := a.points("bob"); p.Balance != 520 || p.Expiring != 520 {
			t.Errorf("last second of 2026: %+v", p)
		}
		a.clock.Set(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC))
		if p := a.points("bob"); p.Balance != 0 {
			t.Errorf("midnight in Shanghai: balance %d, want 0 before the job runs", p.Balance)
		}
		st, err := a.ledger.ExpireAll(context.Background())
		if err != nil || st.Points != 520 {
			t.Fatalf("expiry job: %+v %v", st, err)
		}
		if st, _ := a.ledger.ExpireAll(context.Background()); st.Points != 0 {
			t.Errorf("second expiry run wrote %d", st.Points)
		}
		p := a.points("bob")
		if p.Balance != 0 || p.Entries.Edges[0].Node.Kind != "EXPIRY" || p.Entries.Edges[0].Node.Amount != -520 {
			t.Errorf("after the job: %+v", p)
		}
		// Earn, spend, then refund the order: the spent points become a debt.
		res = a.record(at(orderEvent("o2", "bob", "O-2", "WEB", ln("tv", "APPLIANCES", 500000)), a.now()))
		if res[0].Points != 500 {
			t.Fatalf("order 2: %+v", res[0])
		}
		if c := a.change(auth.RoleService, spendMutation, "spendPoints", map[string]any{"externalId": "bob", "points": 400, "purpose": "EXCHANGE", "idempotencyKey": "x1"}); codeOf(c) != "" {
			t.Fatalf("spend: %+v", c)
		}
		refund := at(map[string]any{"idempotencyKey": "rf1", "externalId": "bob", "kind": "ORDER_REFUNDED", "channel": "WEB", "orderId": "O-2", "skus": []string{"tv"}}, a.now())
		res = a.record(refund)
		if r := res[0]; r.Status != "ACCEPTED" || r.Points != -500 || r.DebtPoints != 400 || r.WithholdCents != 400 {
			t.Fatalf("refund of spent points: %+v", r)
		}
		if p := a.points("bob"); p.Balance != -400 || p.Debt != 400 {
			t.Errorf("after the refund: %+v", p)
		}
		for _, bad := range []map[string]any{
			at(map[string]any{"idempotencyKey": "rf2", "externalId": "bob", "kind": "ORDER_REFUNDED", "channel": "WEB", "orderId": "O-2", "skus": []string{"tv"}}, a.now()),
			at(map[string]any{"idempotencyKey": "rf3", "externalId": "bob", "kind": "ORDER_REFUNDED", "channel": "WEB", "orderId": "O-2", "skus": []string{"radio"}}, a.now()),
			at(map[string]any{"idempotencyKey": "rf4", "externalId": "bob", "kind": "ORDER_REFUNDED", "channel": "WEB", "orderId": "O-404", "skus": []string{"tv"}}, a.now()),
		} {
			if r := a.record(bad)[0]; r.Status != "REJECTED" {
				t.Errorf("%v: %+v", bad["skus"], r)
			}
		}
		// The next earning pays the debt first.
		a.record(at(orderEvent("o3", "bob", "O-3", "WEB", ln("sofa", "HOME", 600000)), a.now()))
		if p := a.points("bob"); p.Balance != 200 || p.Debt != 0 {
			t.Errorf("after earning 600 with a debt of 400: %+v", p)
		}
	})
}

// TestPointsAuthorization: who may use the points operations, and whose points a member sees.
func TestPointsAuthorization(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		a.adjust("bob", 100, "adj-bob")
		ops := []string{
			`mutation { recordEvents(input: {events: [{idempotencyKey: "k", externalId: "alice", kind: LOGIN, channel: APP, occurredAt: "2026-01-01T00:00:00Z"}]}) { results { status } } }`,
			`mutation { spendPoints(input: {externalId: "bob", points: 1, purpose: EXCHANGE, idempotencyKey: "z"}) { userErrors { code } } }`,
			`mutation { reverseSpend(input: {spendIdempotencyKey: "none", idempotencyKey: "z3"}) { userErrors { code } } }`,
			`mutation { adjustPoints(input: {externalId: "bob", points: 1, reason: "why not", idempotencyKey: "z2"}) { userErrors { code } } }`,
			`mutation { fundStoreBudget(input: {storeId: "s", points: 1, reason: "budget", idempotencyKey: "z4"}) { userErrors { code } } }`,
			`mutation { grantStorePoints(input: {storeId: "s", externalId: "bob", points: 1, reason: "gift", idempotencyKey: "z5"}) { userErrors { code } } }`,
			`{ storeBudget(storeId: "s") { funded } }`,
			`{ pointsQuote(externalId: "alice", orderAmountCents: 100) { maxPoints } }`,
		}
		const F = "FORBIDDEN"
		a.checkRoles(ops, map[auth.Role][]string{
			auth.RoleAdmin:   {"", "", "", "", "", "", "", ""},
			auth.RoleService: {"", "", "", F, F, "", "", ""},
			auth.RoleMember:  {F, F, F, F, F, F, F, ""},
			// A STORE reaches grantStorePoints (issue 15) and is refused there by a userError: "s" is no store of its programme.
			auth.RoleStore:   {F, F, F, F, F, "", "", F},
			auth.RolePartner: {F, F, F, F, F, F, F, F},
		})
		// A member sees its own points, and quotes only for itself.
		alice := a.token(auth.RoleMember, "alice")
		var own struct {
			Viewer struct{ Points struct{ Balance int } }
		}
		a.must(alice, `{ viewer { points { balance } } }`, nil, &own)
		if r := a.do(alice, `{ pointsQuote(externalId: "bob", orderAmountCents: 10000) { maxPoints } }`, nil); r.code() != graph.CodeNotFound {
			t.Errorf("alice quoting bob: %q, want NOT_FOUND (no such member for her)", r.code())
		}
		if r := a.do(alice, `{ pointsQuote(externalId: "alice", orderAmountCents: 10000) { maxPoints } }`, nil); len(r.Errors) > 0 {
			t.Errorf("alice quoting herself: %+v", r.Errors)
		}
	})
}

// TestStoreBudget: a store grants from the points it bought, never beyond, even when
// grants race; its STORE token sees its own budget only.
func TestStoreBudget(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		for i := range 10 {
			a.register(fmt.Sprintf("s%d", i), nil)
		}
		fund := func(pts int, key string) (map[string]any, []userError) {
			var out struct {
				FundStoreBudget struct {
					Budget     map[string]any
					Replayed   bool
					UserErrors []userError
				}
			}
			a.must(a.token(auth.RoleAdmin, "ops"), `mutation($input: FundStoreBudgetInput!) { fundStoreBudget(input: $input) {
				budget { storeId funded granted remaining } replayed userErrors { field code message } } }`,
				map[string]any{"input": map[string]any{"storeId": "store-7", "points": pts, "reason": "promotion budget", "idempotencyKey": key}}, &out)
			return out.FundStoreBudget.Budget, out.FundStoreBudget.UserErrors
		}
		if b, ue := fund(100, "f1"); len(ue) > 0 || b["remaining"].(float64) != 100 {
			t.Fatalf("fund: %v %v", b, ue)
		}
		if b, _ := fund(100, "f1"); b["funded"].(float64) != 100 {
			t.Errorf("replayed funding counted twice: %v", b)
		}
		if _, ue := fund(50, "f1"); len(ue) == 0 || ue[0].Code != "CONFLICT" {
			t.Errorf("funding key reused: %v", ue)
		}
		grant := `mutation($input: GrantStorePointsInput!) { grantStorePoints(input: $input) { entry { amount funding } balance userErrors { code message } } }`
		var wg sync.WaitGroup
		results := make([]change, 10)
		for i := range 10 {
			wg.Go(func() {
				var out map[string]change
				a.must(a.token(auth.RoleService, "orders"), grant, map[string]any{"input": map[string]any{"storeId": "store-7",
					"externalId": fmt.Sprintf("s%d", i), "points": 20, "reason": "store opening", "idempotencyKey": fmt.Sprintf("g%d", i)}}, &out)
				results[i] = out["grantStorePoints"]
			})
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, r := range results {
			switch codeOf(r) {
			case "":
				ok++
			case "FAILED_PRECONDITION":
				refused++
			default:
				t.Errorf("grant: %+v", r.UserErrors)
			}
		}
		if ok != 5 || refused != 5 {
			t.Errorf("10 racing grants of 20 from 100: %d granted, %d refused; want 5 and 5", ok, refused)
		}
		var sum int
		for i := range 10 {
			for _, e := range a.points(fmt.Sprintf("s%d", i)).Entries.Edges {
				if e.Node.Funding == "STORE:store-7" {
					sum += e.Node.Amount
				}
			}
		}
		var out struct{ StoreBudget map[string]any }
		a.must(a.token(auth.RoleStore, "store-7"), `{ storeBudget(storeId: "store-7") { funded granted remaining } }`, nil, &out)
		if out.StoreBudget["granted"].(float64) != 100 || sum != 100 || out.StoreBudget["remaining"].(float64) != 0 {
			t.Errorf("budget %v, ledger entries funded by the store %d", out.StoreBudget, sum)
		}
		var other struct{ StoreBudget map[string]any }
		a.must(a.token(auth.RoleStore, "store-8"), `{ storeBudget(storeId: "store-7") { funded } }`, nil, &other)
		if other.StoreBudget != nil {
			t.Errorf("another store sees the budget: %v", other.StoreBudget)
		}
		if r := a.do(a.token(auth.RoleStore, "store-7"), grant, map[string]any{"input": map[string]any{"storeId": "store-7",
			"externalId": "s1", "points": 1, "reason": "self-service", "idempotencyKey": "gx"}}); r.code() != "" || !strings.Contains(string(r.Data["grantStorePoints"]), "NOT_FOUND") {
			// A STORE grants only to its programme's consenting members (issue 15); store-7 is in none.
			t.Errorf("STORE token of a store in no programme granting: %q %s", r.code(), r.Data["grantStorePoints"])
		}
	})
}

package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/benefit"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/page"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

type pageInfoView struct {
	HasNextPage, HasPreviousPage bool
	StartCursor, EndCursor       *string
}

type eventsView struct {
	TotalCount int
	PageInfo   pageInfoView
	Edges      []struct {
		Cursor string
		Node   struct {
			IdempotencyKey, Kind, OccurredAt, ReceivedAt, Channel string
			OrderID, OrderType, PaymentMethod                     *string
			Lines                                                 []struct {
				Sku, Category, ProductType string
				PaidCents                  int
			}
			Skus    []string
			Outcome eventResult
		}
	}
}

func (v eventsView) keys() string {
	var ks []string
	for _, e := range v.Edges {
		ks = append(ks, e.Node.IdempotencyKey)
	}
	return strings.Join(ks, " ")
}

const eventsQuery = `query($e: String!, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
  member(externalId: $e) { events(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { idempotencyKey kind occurredAt receivedAt channel orderId orderType paymentMethod
      lines { sku category paidCents productType } skus
      outcome { idempotencyKey status code message field points pendingPoints debtPoints withholdCents } } }
  } }
}`

// TestMemberEvents reads the audit trail back: newest first with the later stored first
// among events of one instant, each with its body and the answer recordEvents gave; paged
// both ways; for ADMIN and SERVICE only, also below the resolver.
func TestMemberEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		t0 := a.clock.Now().Add(-3 * time.Hour)
		ts := func(h int) string { return t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
		answered := map[string]eventResult{}
		for _, ev := range []map[string]any{
			// ¥1,234 → 123 points and ¥57 → 5 (docs/domain.md §3): 128.
			at(orderEvent("order", "alice", "O-1", "WEB", ln("s1", "PHONES", 123400), ln("s2", "FOOD", 5700)), ts(0)),
			{"idempotencyKey": "login", "externalId": "alice", "kind": "LOGIN", "channel": "APP", "occurredAt": ts(1)},
			{"idempotencyKey": "check-in", "externalId": "alice", "kind": "CHECK_IN", "channel": "APP", "occurredAt": ts(1)},
			{"idempotencyKey": "refund", "externalId": "alice", "kind": "ORDER_REFUNDED", "channel": "WEB", "orderId": "O-1", "skus": []string{"s2"}, "occurredAt": ts(2)},
			{"idempotencyKey": "bob-login", "externalId": "bob", "kind": "LOGIN", "channel": "APP", "occurredAt": ts(2)},
		} {
			res := a.record(ev)
			if res[0].Status != "ACCEPTED" {
				t.Fatalf("%s: %+v", ev["idempotencyKey"], res[0])
			}
			answered[res[0].IdempotencyKey] = res[0]
		}
		if answered["order"].Points != 128 {
			t.Fatalf("order earned %d points, want 128", answered["order"].Points)
		}
		admin := a.token(auth.RoleAdmin, "ops")
		read := func(tok string, vars map[string]any) eventsView {
			t.Helper()
			var out struct{ Member struct{ Events eventsView } }
			vars["e"] = "alice"
			a.must(tok, eventsQuery, vars, &out)
			return out.Member.Events
		}
		all := read(a.token(auth.RoleService, "orders"), map[string]any{})
		if all.keys() != "refund check-in login order" || all.TotalCount != 4 || all.PageInfo.HasNextPage || all.PageInfo.HasPreviousPage {
			t.Fatalf("events = %s (total %d, %+v)", all.keys(), all.TotalCount, all.PageInfo)
		}
		for _, e := range all.Edges {
			if got, want := e.Node.Outcome, answered[e.Node.IdempotencyKey]; got.Status != "ACCEPTED" || got.Code != nil ||
				got.Points != want.Points || got.PendingPoints != want.PendingPoints || got.DebtPoints != want.DebtPoints {
				t.Errorf("%s outcome %+v, recordEvents answered %+v", e.Node.IdempotencyKey, got, want)
			}
		}
		order, refund := all.Edges[3].Node, all.Edges[0].Node
		if order.Kind != "ORDER_COMPLETED" || order.Channel != "WEB" || *order.OrderID != "O-1" || *order.OrderType != "NORMAL" ||
			*order.PaymentMethod != "CASH" || len(order.Lines) != 2 || order.Lines[0].Sku != "s1" || order.Lines[0].PaidCents != 123400 ||
			order.Lines[1].Category != "FOOD" || order.Lines[1].ProductType != "PHYSICAL" || len(order.Skus) != 0 {
			t.Errorf("order event = %+v", order)
		}
		occurred, _ := time.Parse(time.RFC3339, order.OccurredAt)
		received, _ := time.Parse(time.RFC3339, order.ReceivedAt)
		if !occurred.Equal(t0) || !received.Equal(a.clock.Now()) {
			t.Errorf("order occurred %s received %s, want %s and %s", order.OccurredAt, order.ReceivedAt, t0, a.clock.Now())
		}
		if refund.Kind != "ORDER_REFUNDED" || strings.Join(refund.Skus, ",") != "s2" || len(refund.Lines) != 0 || refund.OrderType != nil {
			t.Errorf("refund event = %+v", refund)
		}
		// Paging forwards, then backwards from the end and from a cursor.
		p1 := read(admin, map[string]any{"first": 2})
		p2 := read(admin, map[string]any{"first": 2, "after": p1.PageInfo.EndCursor})
		if p1.keys() != "refund check-in" || !p1.PageInfo.HasNextPage || p2.keys() != "login order" || p2.PageInfo.HasNextPage || !p2.PageInfo.HasPreviousPage {
			t.Errorf("forwards: %s (%+v) then %s (%+v)", p1.keys(), p1.PageInfo, p2.keys(), p2.PageInfo)
		}
		if l := read(admin, map[string]any{"last": 1}); l.keys() != "order" || !l.PageInfo.HasPreviousPage {
			t.Errorf("last 1: %s %+v", l.keys(), l.PageInfo)
		}
		if b := read(admin, map[string]any{"last": 5, "before": all.Edges[2].Cursor}); b.keys() != "refund check-in" || !b.PageInfo.HasNextPage || b.PageInfo.HasPreviousPage {
			t.Errorf("last 5 before login: %s %+v", b.keys(), b.PageInfo)
		}
		// Roles: ADMIN and SERVICE read; a member cannot read even its own; STORE and
		// PARTNER see no member at all.
		for _, tc := range []struct {
			role     auth.Role
			query    string
			code     string
			nullData bool
		}{
			{auth.RoleMember, `{ viewer { events { totalCount } } }`, graph.CodeForbidden, false},
			{auth.RoleMember, `{ member(externalId: "alice") { events { totalCount } } }`, graph.CodeForbidden, false},
			{auth.RoleStore, `{ member(externalId: "alice") { events { totalCount } } }`, "", true},
			{auth.RolePartner, `{ member(externalId: "alice") { events { totalCount } } }`, "", true},
		} {
			r := a.do(a.token(tc.role, "alice"), tc.query, nil)
			if r.code() != tc.code || tc.nullData && string(r.Data["member"]) != "null" {
				t.Errorf("%s %s: %+v %s", tc.role, tc.query, r.Errors, r.Data)
			}
		}
		// Below the resolver: the service refuses a member, and the rows' privacy policy
		// hides them from it.
		ctx := context.Background()
		pid, err := db.Client.Program.Query().OnlyID(auth.SystemContext(ctx, 0))
		if err != nil {
			t.Fatal(err)
		}
		memberCtx := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleMember, Subject: "alice", ProgramID: pid})
		svc := events.NewService(db.Client, a.ledger, 0)
		if _, err := svc.History(memberCtx, 1, page.Request{}); err != events.ErrNotAuditor {
			t.Errorf("History as MEMBER: %v", err)
		}
		if n, err := db.Client.Event.Query().Count(memberCtx); err != nil || n != 0 {
			t.Errorf("a MEMBER's own query sees %d events (%v)", n, err)
		}
		// Malformed and foreign cursors are the caller's mistake.
		var mc struct {
			Members struct{ Edges []struct{ Cursor string } }
		}
		a.must(admin, `{ members(first: 1) { edges { cursor } } }`, nil, &mc)
		for _, c := range []string{"bad", mc.Members.Edges[0].Cursor} {
			r := a.do(admin, eventsQuery, map[string]any{"e": "alice", "after": c})
			if r.code() != graph.CodeBadUserInput || len(r.Errors) != 1 || r.Errors[0].Extensions["argument"] != "after" {
				t.Errorf("events(after: %q): %+v", c, r.Errors)
			}
		}
		if r := a.do(admin, eventsQuery, map[string]any{"e": "alice", "first": 1, "last": 1}); r.code() != graph.CodeBadUserInput {
			t.Errorf("first and last: %+v", r.Errors)
		}
	})
}

type claimsView struct {
	TotalCount int
	PageInfo   pageInfoView
	Edges      []struct {
		Cursor string
		Node   struct {
			ID, Period, Source, ClaimedAt string
			Benefit                       struct{ Key string }
		}
	}
}

func (v claimsView) keys() string {
	var ks []string
	for _, e := range v.Edges {
		ks = append(ks, e.Node.Benefit.Key+"/"+e.Node.Source)
	}
	return strings.Join(ks, " ")
}

const claimsQuery = `query($e: String!, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
  member(externalId: $e) { benefitClaims(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id period source claimedAt benefit { key } } }
  } }
}`

// TestMemberBenefitClaims: the upgrade-gift coupon and the member's own claims, newest
// first (the later stored first among claims of one instant), paged both ways; a member
// sees its own, STORE and PARTNER nothing.
func TestMemberBenefitClaims(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		// ¥3,000 in October settles alice into Silver on 1 November, whose upgrade gift
		// holds an UPGRADE_COUPON (docs/domain.md §4).
		a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("phone", "PHONES", 300000)), "2026-10-15T04:00:00Z"))
		a.settle("2026-11")
		alice := a.token(auth.RoleMember, "alice")
		claim := func(benefit, key string) {
			t.Helper()
			var out struct {
				ClaimBenefit struct{ UserErrors []userError }
			}
			a.must(alice, `mutation($b: String!, $k: String!) { claimBenefit(input: {externalId: "alice", benefitKey: $b, idempotencyKey: $k}) { userErrors { code message } } }`,
				map[string]any{"b": benefit, "k": key}, &out)
			if len(out.ClaimBenefit.UserErrors) > 0 {
				t.Fatalf("claim %s: %+v", benefit, out.ClaimBenefit.UserErrors)
			}
		}
		a.clock.Advance(time.Hour)
		claim("FREE_SHIPPING_2", "c1")
		a.clock.Advance(time.Hour)
		claim("MEMBER_PRICE", "c2")
		claim("FLASH_REFUND", "c3") // the same instant as c2, stored after it
		read := func(tok string, vars map[string]any) claimsView {
			t.Helper()
			var out struct {
				Member *struct{ BenefitClaims claimsView }
			}
			vars["e"] = "alice"
			a.must(tok, claimsQuery, vars, &out)
			if out.Member == nil {
				return claimsView{}
			}
			return out.Member.BenefitClaims
		}
		const want = "FLASH_REFUND/CLAIM MEMBER_PRICE/CLAIM FREE_SHIPPING_2/CLAIM UPGRADE_COUPON/TIER_GIFT"
		for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleService, auth.RoleMember} {
			c := read(a.token(role, "alice"), map[string]any{})
			if c.keys() != want || c.TotalCount != 4 {
				t.Errorf("%s sees %s (total %d), want %s", role, c.keys(), c.TotalCount, want)
			}
		}
		all := read(alice, map[string]any{})
		if p := all.Edges[2].Node.Period; p != "2026-11" {
			t.Errorf("FREE_SHIPPING_2 counts against %q, want 2026-11", p)
		}
		claimed, _ := time.Parse(time.RFC3339, all.Edges[0].Node.ClaimedAt)
		if !claimed.Equal(a.clock.Now()) {
			t.Errorf("claimedAt %s, want %s", all.Edges[0].Node.ClaimedAt, a.clock.Now())
		}
		for _, role := range []auth.Role{auth.RoleStore, auth.RolePartner} {
			if c := read(a.token(role, "alice"), map[string]any{}); len(c.Edges) != 0 {
				t.Errorf("%s sees claims %s", role, c.keys())
			}
		}
		if c := read(a.token(auth.RoleMember, "bob"), map[string]any{}); len(c.Edges) != 0 {
			t.Errorf("bob sees alice's claims %s", c.keys())
		}
		var bob struct {
			Viewer struct{ BenefitClaims claimsView }
		}
		a.must(a.token(auth.RoleMember, "bob"), `{ viewer { benefitClaims { totalCount edges { cursor } } } }`, nil, &bob)
		if bob.Viewer.BenefitClaims.TotalCount != 0 {
			t.Errorf("bob holds %d claims, want 0", bob.Viewer.BenefitClaims.TotalCount)
		}
		p1 := read(alice, map[string]any{"first": 3})
		p2 := read(alice, map[string]any{"first": 3, "after": p1.PageInfo.EndCursor})
		if p1.keys() != "FLASH_REFUND/CLAIM MEMBER_PRICE/CLAIM FREE_SHIPPING_2/CLAIM" || !p1.PageInfo.HasNextPage ||
			p2.keys() != "UPGRADE_COUPON/TIER_GIFT" || p2.PageInfo.HasNextPage || !p2.PageInfo.HasPreviousPage {
			t.Errorf("forwards: %s (%+v) then %s (%+v)", p1.keys(), p1.PageInfo, p2.keys(), p2.PageInfo)
		}
		if b := read(alice, map[string]any{"last": 1, "before": all.Edges[1].Cursor}); b.keys() != "FLASH_REFUND/CLAIM" || !b.PageInfo.HasNextPage {
			t.Errorf("last 1 before MEMBER_PRICE: %s %+v", b.keys(), b.PageInfo)
		}
	})
}

// TestHistoryPagesCostTheirSize: a page of events or claims costs its size in the
// complexity limit (30 pages of 100 edges cost over 6,000 of the 5,000 allowed), so
// aliasing many large pages is refused.
func TestHistoryPagesCostTheirSize(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "")
		for _, field := range []string{"events", "benefitClaims"} {
			var b strings.Builder
			b.WriteString(`{ member(externalId: "alice") {`)
			for i := range 30 {
				fmt.Fprintf(&b, " a%d: %s(first: 100) { edges { cursor } }", i, field)
			}
			b.WriteString(" } }")
			if r := a.do(admin, b.String(), nil); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
				t.Errorf("30 aliased pages of 100 %s: %+v", field, r.Errors)
			}
			if r := a.do(admin, `{ member(externalId: "alice") { `+field+`(first: 100) { edges { cursor } } } }`, nil); len(r.Errors) > 0 {
				t.Errorf("one page of 100 %s: %+v", field, r.Errors)
			}
		}
	})
}

// TestHistoryStatementsAreBounded counts the SQL statements of a page of events and of
// claims: the same for a page of 1 as for a page of 50.
func TestHistoryStatementsAreBounded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		var batch []map[string]any
		for i := range 50 {
			batch = append(batch, map[string]any{"idempotencyKey": "login-" + string(rune('A'+i%26)) + string(rune('a'+i/26)),
				"externalId": "alice", "kind": "LOGIN", "channel": "APP", "occurredAt": a.clock.Now().Add(-time.Duration(i) * time.Minute).Format(time.RFC3339)})
		}
		a.record(batch...)
		alice := a.token(auth.RoleMember, "alice")
		for i := range 50 {
			a.clock.Advance(time.Second)
			a.must(alice, `mutation($k: String!) { claimBenefit(input: {externalId: "alice", benefitKey: "MEMBER_PRICE", idempotencyKey: $k}) { userErrors { code } } }`,
				map[string]any{"k": "claim-" + string(rune('A'+i%26)) + string(rune('a'+i/26))}, &struct{}{})
		}
		var statements atomic.Int64
		drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(context.Context, ...any) { statements.Add(1) })
		counting := ent.NewClient(ent.Driver(drv))
		evs := events.NewService(counting, a.ledger, 0)
		claims := benefit.NewService(counting, a.ledger)
		pid, err := db.Client.Program.Query().OnlyID(auth.SystemContext(context.Background(), 0))
		if err != nil {
			t.Fatal(err)
		}
		ctx := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})
		m, err := db.Client.Member.Query().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 50} {
			statements.Store(0)
			p, err := evs.History(ctx, m.ID, page.Request{First: &n, Total: true})
			if err != nil || len(p.Items) != n || p.TotalCount != 50 {
				t.Fatalf("history of %d: %d items of %d, %v", n, len(p.Items), p.TotalCount, err)
			}
			if got := statements.Load(); got != 2 {
				t.Errorf("a page of %d events: %d statements, want 2 (count, page)", n, got)
			}
			statements.Store(0)
			c, err := claims.Claims(ctx, m.ID, page.Request{First: &n, Total: true})
			if err != nil || len(c.Items) != n || c.Items[0].Edges.Benefit == nil {
				t.Fatalf("claims page of %d: %d items, %v", n, len(c.Items), err)
			}
			if got := statements.Load(); got != 3 {
				t.Errorf("a page of %d claims: %d statements, want 3 (count, page, benefits)", n, got)
			}
		}
	})
}

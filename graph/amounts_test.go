package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// payloadErrors runs a mutation and returns its payload's userErrors (field joined by dots).
func (a *api) payloadErrors(token, mutation string, vars map[string]any) []userError {
	a.t.Helper()
	r := a.do(token, mutation, vars)
	if r.Status != 200 || len(r.Errors) > 0 {
		a.t.Fatalf("mutation failed (%d): %+v", r.Status, r.Errors)
	}
	for _, raw := range r.Data {
		var p struct{ UserErrors []userError }
		if err := json.Unmarshal(raw, &p); err != nil {
			a.t.Fatal(err)
		}
		return p.UserErrors
	}
	a.t.Fatal("no payload")
	return nil
}

// refusedAt reports whether errs is exactly one INVALID_ARGUMENT at field.
func refusedAt(errs []userError, field string) bool {
	return len(errs) == 1 && errs[0].Code == "INVALID_ARGUMENT" && strings.Join(errs[0].Field, ".") == field
}

const adjustMutation = `mutation($p: Int!, $m: String!, $k: String!) { adjustPoints(input: {externalId: $m, points: $p, reason: "bounds test", idempotencyKey: $k}) {
	balance userErrors { field message code } } }`

// TestAmountsBounded (issue 13 item 4): every amount beyond its documented bound
// (internal/amount, docs/domain.md "Bounds") is refused with INVALID_ARGUMENT naming the field
// and changes nothing; at the bound it is taken; GraphQL's Int holds 32 bits only.
func TestAmountsBounded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "ops")
		service := a.token(auth.RoleService, "orders")
		adjust := func(points int64, key string) []userError {
			return a.payloadErrors(admin, adjustMutation, map[string]any{"p": points, "m": "alice", "k": key})
		}

		// 2^62 is no GraphQL Int: refused as the value it is, at input.points, nothing run.
		if errs := adjust(1<<62, "adj-huge"); !refusedAt(errs, "input.points") {
			t.Errorf("adjustPoints 2^62: %+v", errs)
		}
		if errs := adjust(-(1 << 62), "adj-huge-neg"); !refusedAt(errs, "input.points") {
			t.Errorf("adjustPoints -2^62: %+v", errs)
		}
		// Within 32 bits but beyond one operation's bound, either way.
		for _, p := range []int64{amount.MaxPoints + 1, -amount.MaxPoints - 1} {
			if errs := adjust(p, fmt.Sprint("adj-", p)); !refusedAt(errs, "input.points") {
				t.Errorf("adjustPoints %d: %+v", p, errs)
			}
		}
		if b := a.points("alice").Balance; b != 0 {
			t.Fatalf("refused adjustments changed the balance to %d", b)
		}
		// Twice the bound of one operation fills the account to its bound; one point more is refused.
		for i := range 2 {
			if errs := adjust(amount.MaxPoints, fmt.Sprint("adj-max-", i)); len(errs) > 0 {
				t.Fatalf("adjustPoints at the bound: %+v", errs)
			}
		}
		if errs := adjust(1, "adj-beyond-balance"); !refusedAt(errs, "input.points") {
			t.Errorf("a credit beyond the balance bound: %+v", errs)
		}
		p := a.points("alice")
		if p.Balance != int(amount.MaxBalance) || p.Entries.TotalCount != 2 {
			t.Errorf("balance %d in %d entries, want %d in 2", p.Balance, p.Entries.TotalCount, amount.MaxBalance)
		}

		// pointsQuote: the 1,844,674,407,370,956 cents is no Int; ¥10,000,000.01 is beyond
		// the order bound; at the bound, 50% of ¥10,000,000 = ¥5,000,000 = 500,000,000 points.
		quote := `query($c: Int!) { pointsQuote(externalId: "alice", orderAmountCents: $c) { maxPoints maxDeductionCents } }`
		r := a.do(service, quote, map[string]any{"c": int64(1844674407370956)})
		if r.code() != graph.CodeBadUserInput || !strings.Contains(r.Errors[0].Message, "orderAmountCents") {
			t.Errorf("pointsQuote of 1844674407370956 cents: %+v", r.Errors)
		}
		// A query has no userErrors: its INVALID_ARGUMENT is BAD_USER_INPUT naming the argument.
		r = a.do(service, quote, map[string]any{"c": amount.MaxCents + 1})
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["argument"] != "orderAmountCents" {
			t.Errorf("pointsQuote beyond the bound: %+v", r.Errors)
		}
		var q struct {
			PointsQuote struct{ MaxPoints, MaxDeductionCents int64 }
		}
		a.must(service, quote, map[string]any{"c": amount.MaxCents}, &q)
		if q.PointsQuote.MaxPoints != 500_000_000 || q.PointsQuote.MaxDeductionCents != 500_000_000 {
			t.Errorf("quote at the bound: %+v", q.PointsQuote)
		}

		// spendPoints: points and the order's amount.
		spend := `mutation($p: Int!, $c: Int, $k: String!) { spendPoints(input: {externalId: "alice", points: $p, orderAmountCents: $c,
			purpose: ORDER_DEDUCTION, idempotencyKey: $k}) { userErrors { field message code } } }`
		if errs := a.payloadErrors(service, spend, map[string]any{"p": amount.MaxPoints + 1000, "c": 100000, "k": "sp1"}); !refusedAt(errs, "input.points") {
			t.Errorf("spend beyond the bound: %+v", errs)
		}
		if errs := a.payloadErrors(service, spend, map[string]any{"p": 1000, "c": amount.MaxCents + 1, "k": "sp2"}); !refusedAt(errs, "input.orderAmountCents") {
			t.Errorf("spend on an order beyond the bound: %+v", errs)
		}
		if errs := a.payloadErrors(service, spend, map[string]any{"p": 1000, "c": int64(1) << 31, "k": "sp3"}); !refusedAt(errs, "input.orderAmountCents") {
			t.Errorf("spend on an order of 2^31 cents: %+v", errs)
		}

		// Budgets: one funding at most MaxPoints.
		fund := `mutation($p: Int!) { fundStoreBudget(input: {storeId: "S1", points: $p, reason: "bought", idempotencyKey: "f1"}) { userErrors { field message code } } }`
		if errs := a.payloadErrors(admin, fund, map[string]any{"p": amount.MaxPoints + 1}); !refusedAt(errs, "input.points") {
			t.Errorf("fundStoreBudget beyond the bound: %+v", errs)
		}

		// Events: paidCents of 2^31 is no Int (the whole input refused); beyond ¥10,000,000 per
		// line, or in all, the event is REJECTED at the field; at the bound it is taken.
		now := a.now()
		errs := a.payloadErrors(service, recordMutation, map[string]any{"events": []any{
			at(orderEvent("e-int", "alice", "O-INT", "WEB", ln("s1", "PHONES", 0)), now)}})
		if len(errs) != 0 {
			t.Fatalf("a valid event: %+v", errs)
		}
		// In the document, as a literal: a refusal of a value inside a list of variables does
		// not learn its path from gqlgen (the field is then empty; the code is the same).
		errs = a.payloadErrors(service, fmt.Sprintf(`mutation { recordEvents(input: {events: [{idempotencyKey: "e-2p31", externalId: "alice",
			kind: ORDER_COMPLETED, occurredAt: %q, channel: WEB, orderId: "O-2P31", orderType: NORMAL, paymentMethod: CASH,
			lines: [{sku: "s1", category: "PHONES", paidCents: 2147483648, productType: PHYSICAL}]}]}) { userErrors { field message code } } }`, now), nil)
		if !refusedAt(errs, "input.events.0.lines.0.paidCents") {
			t.Errorf("paidCents 2^31: %+v", errs)
		}
		big := int(amount.MaxCents)
		a.register("bob", nil)
		res := a.record(
			at(orderEvent("e-line", "bob", "O-LINE", "WEB", ln("s1", "PHONES", big+1)), now),
			at(orderEvent("e-total", "bob", "O-TOTAL", "WEB", ln("s1", "PHONES", big), ln("s2", "PHONES", 1)), now),
			at(orderEvent("e-max", "bob", "O-MAX", "WEB", ln("s1", "PHONES", big)), now),
			// alice holds the bound already: what the order would earn is refused whole.
			at(orderEvent("e-full", "alice", "O-FULL", "WEB", ln("s1", "PHONES", 500000)), now),
		)
		for i, want := range []string{"input.events.0.lines.0.paidCents", "input.events.1.lines", ""} {
			got := strings.Join(res[i].Field, ".")
			if (want == "") != (res[i].Status == "ACCEPTED") || got != want {
				t.Errorf("event %d: %s at %q, want %q", i, res[i].Status, got, want)
			}
		}
		// ¥10,000,000 on the web earns the line cap, 1,000 points.
		if res[2].Points != 1000 || a.points("bob").Balance != 1000 {
			t.Errorf("the event at the bound earned %d, bob holds %d", res[2].Points, a.points("bob").Balance)
		}
		if res[3].Status != "REJECTED" || res[3].Code == nil || *res[3].Code != "INVALID_ARGUMENT" || a.points("alice").Balance != int(amount.MaxBalance) {
			t.Errorf("an event beyond the balance bound: %+v, alice holds %d", res[3], a.points("alice").Balance)
		}
	})
}

// TestBackdatingRefused (issue 13 item 5): an event older than the horizon (1 January of
// last year in Shanghai: the clock is at 22 Nov 2026) is refused at occurredAt; one at the
// horizon's edge earns points that are alive, so what it promises is what the balance and
// the ledger show at once, without the expiry job. registeredAt is bounded both ways.
func TestBackdatingRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		before := a.points("alice").Balance
		res := a.record(
			at(orderEvent("old", "alice", "O-OLD", "WEB", ln("s1", "PHONES", 123400)), "0001-01-02T00:00:00Z"),
			at(orderEvent("late", "alice", "O-LATE", "WEB", ln("s1", "PHONES", 123400)), "2024-12-31T23:59:59+08:00"),
			// ¥1,234 on the web: 123 points, the edge of the horizon.
			at(orderEvent("edge", "alice", "O-EDGE", "WEB", ln("s1", "PHONES", 123400)), "2025-01-01T00:00:00+08:00"),
		)
		for i, r := range res[:2] {
			if r.Status != "REJECTED" || r.Code == nil || *r.Code != "INVALID_ARGUMENT" || strings.Join(r.Field, ".") != fmt.Sprintf("input.events.%d.occurredAt", i) {
				t.Errorf("event %d before the horizon: %+v", i, r)
			}
		}
		if res[2].Status != "ACCEPTED" || res[2].Points != 123 {
			t.Fatalf("event at the horizon: %+v", res[2])
		}
		p := a.points("alice")
		sum := 0
		for _, e := range p.Entries.Edges {
			sum += e.Node.Amount
		}
		if p.Balance-before != res[2].Points || sum != p.Balance {
			t.Errorf("promised %d, the balance moved %d, the ledger sums %d to a balance of %d", res[2].Points, p.Balance-before, sum, p.Balance)
		}
		// Still alive on the last day of the year after: expiry is at the start of 2027.
		a.clock.Set(time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC))
		if got := a.points("alice").Balance; got != 123 {
			t.Errorf("balance on 31 Dec 2026 23:59 Shanghai: %d", got)
		}

		admin := a.token(auth.RoleAdmin, "ops")
		for _, c := range []struct{ name, at string }{
			{"year 1", "0001-01-01T00:00:00Z"},
			{"before the floor", "1989-12-31T23:59:59Z"},
			{"beyond the clock skew", a.clock.Now().Add(6 * time.Minute).Format(time.RFC3339)},
		} {
			errs := a.payloadErrors(admin, registerMutation, map[string]any{"input": map[string]any{
				"externalId": "bob", "registrationChannel": "APP", "registeredAt": c.at}})
			if !refusedAt(errs, "input.registeredAt") {
				t.Errorf("registeredAt %s: %+v", c.name, errs)
			}
		}
		a.register("carol", map[string]any{"registeredAt": "1990-01-01T00:00:00Z"})
	})
}

// TestTrailingSpaceIDs (issue 13 item 11): "a-victim " is refused with INVALID_ARGUMENT at
// its field by every operation taking an externalId, on both databases, so nothing reaches
// a-victim's points through MariaDB's PAD SPACE comparison; and the id columns themselves
// tell the two apart (on MariaDB through the NO PAD collation).
func TestTrailingSpaceIDs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("a-victim", nil)
		admin := a.token(auth.RoleAdmin, "ops")
		service := a.token(auth.RoleService, "orders")
		if errs := a.payloadErrors(admin, adjustMutation, map[string]any{"p": 5000, "m": "a-victim", "k": "seed"}); len(errs) > 0 {
			t.Fatal(errs)
		}
		const victim = "a-victim "
		mutations := map[string]string{
			"registerMember":      `mutation($m: String!) { registerMember(input: {externalId: $m, registrationChannel: APP}) { userErrors { field message code } } }`,
			"updateMember":        `mutation($m: String!) { updateMember(input: {externalId: $m, nickname: "x"}) { userErrors { field message code } } }`,
			"spendPoints":         `mutation($m: String!) { spendPoints(input: {externalId: $m, points: 1000, purpose: EXCHANGE, idempotencyKey: "t1"}) { userErrors { field message code } } }`,
			"adjustPoints":        `mutation($m: String!) { adjustPoints(input: {externalId: $m, points: -1000, reason: "steal", idempotencyKey: "t2"}) { userErrors { field message code } } }`,
			"grantStorePoints":    `mutation($m: String!) { grantStorePoints(input: {storeId: "S1", externalId: $m, points: 1, reason: "gift", idempotencyKey: "t3"}) { userErrors { field message code } } }`,
			"claimBenefit":        `mutation($m: String!) { claimBenefit(input: {externalId: $m, benefitKey: "BIRTHDAY_COUPON", idempotencyKey: "t4"}) { userErrors { field message code } } }`,
			"claimPartnerBenefit": `mutation($m: String!) { claimPartnerBenefit(input: {externalId: $m, partner: "videovip", benefit: "VIP_YEAR", idempotencyKey: "t5"}) { userErrors { field message code } } }`,
			"purchasePlus":        `mutation($m: String!) { purchasePlus(input: {externalId: $m, plan: "ANNUAL", amountCents: 14900, paymentRef: "p", idempotencyKey: "t6"}) { userErrors { field message code } } }`,
			"startPlusTrial":      `mutation($m: String!) { startPlusTrial(input: {externalId: $m, idempotencyKey: "t7"}) { userErrors { field message code } } }`,
			"cancelPlus":          `mutation($m: String!) { cancelPlus(input: {externalId: $m, refund: false, reason: "test", idempotencyKey: "t8"}) { userErrors { field message code } } }`,
			"redeemPlusCode":      `mutation($m: String!) { redeemPlusCode(input: {externalId: $m, code: "ABCD-EFGH-JKMN-PQRS-T"}) { userErrors { field message code } } }`,
		}
		names := make([]string, 0, len(mutations))
		for n := range mutations {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			tok := admin
			if n == "redeemPlusCode" { // not an operator's
				tok = service
			}
			if errs := a.payloadErrors(tok, mutations[n], map[string]any{"m": victim}); !refusedAt(errs, "input.externalId") {
				t.Errorf("%s(externalId: %q): %+v", n, victim, errs)
			}
		}
		res := a.record(at(map[string]any{"idempotencyKey": "ci", "externalId": victim, "kind": "CHECK_IN", "channel": "APP"}, a.now()))
		if res[0].Status != "REJECTED" || *res[0].Code != "INVALID_ARGUMENT" || strings.Join(res[0].Field, ".") != "input.events.0.externalId" {
			t.Errorf("recordEvents: %+v", res[0])
		}
		for _, q := range []string{
			`query($m: String!) { pointsQuote(externalId: $m, orderAmountCents: 100000) { maxPoints } }`,
			`query($m: String!) { plusQuote(externalId: $m) { externalId } }`,
			`query($m: String!) { member(externalId: $m) { id } }`,
		} {
			if r := a.do(service, q, map[string]any{"m": victim}); r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["argument"] != "externalId" {
				t.Errorf("%s: %+v", q, r.Errors)
			}
		}
		if b := a.points("a-victim").Balance; b != 5000 {
			t.Errorf("a-victim's balance %d, want 5000", b)
		}

		// Below the rule, at the column: two members whose ids differ by a trailing space are
		// two rows, and each lookup finds its own.
		pid, err := db.Client.Program.Query().OnlyID(auth.SystemContext(context.Background(), 0))
		if err != nil {
			t.Fatal(err)
		}
		ctx := auth.SystemContext(context.Background(), pid)
		tier := db.Client.Tier.Query().FirstX(ctx)
		for _, ext := range []string{"pad", "pad "} {
			if err := db.Client.Member.Create().SetProgramID(pid).SetExternalID(ext).SetRegistrationChannel(entmember.RegistrationChannelAPP).
				SetRegisteredAt(a.clock.Now()).SetUpdatedAt(a.clock.Now()).SetTier(tier).Exec(ctx); err != nil {
				t.Fatalf("member %q: %v", ext, err)
			}
		}
		for _, ext := range []string{"pad", "pad "} {
			ms, err := db.Client.Member.Query().Where(entmember.ExternalID(ext)).All(ctx)
			if err != nil || len(ms) != 1 || ms[0].ExternalID != ext {
				t.Errorf("lookup of %q: %v, %v", ext, rows(ms), err)
			}
		}
	})
}

func rows(ms []*ent.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = fmt.Sprintf("%q", m.ExternalID)
	}
	return out
}

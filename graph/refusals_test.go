package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// refusalCase is one keyed operation: refuse runs it under key with the body that is
// refused at first, other under the same key with another body; change alters the state
// so that the first body would now be carried out under a new key; moved says what the
// state shows of the operation (e.g. the member's balance), which a replayed refusal must
// leave as it was.
type refusalCase struct {
	name    string
	setup   func(a *api)
	refuse  func(a *api, key string) userError
	other   func(a *api, key string) userError
	change  func(a *api)
	moved   func(a *api) int
	wantMsg string // the refusal's message, worked from the rules
	// carried is a request under a new key that the change made possible; refuse when nil.
	carried func(a *api, key string) userError
}

// firstError is the first userError of a payload, the zero value when there is none.
func firstError(ue []userError) userError {
	if len(ue) == 0 {
		return userError{}
	}
	return ue[0]
}

func (a *api) spendRefusal(pts int, key string) userError {
	return firstError(a.change(auth.RoleService, spendMutation, "spendPoints", map[string]any{"externalId": "alice",
		"points": pts, "purpose": "EXCHANGE", "idempotencyKey": key}).UserErrors)
}

func (a *api) storeGrant(pts int, key string) userError {
	return firstError(a.change(auth.RoleService, `mutation($input: GrantStorePointsInput!) {
		grantStorePoints(input: $input) { entry { amount } replayed balance userErrors { field code message } } }`, "grantStorePoints",
		map[string]any{"storeId": "store-7", "externalId": "alice", "points": pts, "reason": "store opening", "idempotencyKey": key}).UserErrors)
}

func (a *api) fundStore(pts int, key string) {
	a.t.Helper()
	var out struct {
		FundStoreBudget struct{ UserErrors []userError }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `mutation($input: FundStoreBudgetInput!) { fundStoreBudget(input: $input) { userErrors { code } } }`,
		map[string]any{"input": map[string]any{"storeId": "store-7", "points": pts, "reason": "promotion budget", "idempotencyKey": key}}, &out)
	if len(out.FundStoreBudget.UserErrors) > 0 {
		a.t.Fatalf("fund: %+v", out.FundStoreBudget.UserErrors)
	}
}

func (a *api) reverse(spendKey, key string) userError {
	return firstError(a.change(auth.RoleService, `mutation($input: ReverseSpendInput!) {
		reverseSpend(input: $input) { entry { amount } replayed balance userErrors { field code message } } }`,
		"reverseSpend", map[string]any{"spendIdempotencyKey": spendKey, "idempotencyKey": key}).UserErrors)
}

func (a *api) mustAdjust(pts int, key string) {
	a.t.Helper()
	if c := a.adjust("alice", pts, key); codeOf(c) != "" {
		a.t.Fatalf("adjust %d: %+v", pts, c.UserErrors)
	}
}

// claimCount is how many claims of any benefit alice holds.
func (a *api) claimCount() int {
	a.t.Helper()
	var out struct {
		Member struct{ BenefitClaims struct{ TotalCount int } }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `{ member(externalId: "alice") { benefitClaims(first: 1) { totalCount } } }`, nil, &out)
	return out.Member.BenefitClaims.TotalCount
}

// TestRefusalsKeepTheirKey: the first outcome of a key is its outcome (docs/architecture.md
// "Idempotency"). Each keyed operation is refused, the state then changes so that the same
// request would be carried out under a new key, and the retry under the first key answers
// the same refusal, code and message, and moves nothing; another body under that key is a
// CONFLICT.
func TestRefusalsKeepTheirKey(t *testing.T) {
	balance := func(a *api) int { return a.points("alice").Balance }
	entries := func(a *api) int { return a.points("alice").Entries.TotalCount }
	cases := []refusalCase{{
		name:   "spendPoints",
		refuse: func(a *api, key string) userError { return a.spendRefusal(500, key) },
		other:  func(a *api, key string) userError { return a.spendRefusal(400, key) },
		change: func(a *api) { a.mustAdjust(1000, "top-up") },
		moved:  balance,
		// Nothing earned yet: 0 spendable.
		wantMsg: "insufficient points: 0 spendable",
	}, {
		name:   "adjustPoints",
		refuse: func(a *api, key string) userError { return firstError(a.adjust("alice", -500, key).UserErrors) },
		other:  func(a *api, key string) userError { return firstError(a.adjust("alice", -400, key).UserErrors) },
		change: func(a *api) { a.mustAdjust(1000, "top-up") },
		moved:  balance,
		// Taking 500 of 0.
		wantMsg: "cannot take 500 points: 0 spendable",
	}, {
		name: "reverseSpend",
		setup: func(a *api) {
			a.mustAdjust(1000, "top-up")
			if ue := a.spendRefusal(300, "sp-1"); ue.Code != "" {
				t.Fatalf("spend: %+v", ue)
			}
			if ue := a.reverse("sp-1", "rv-0"); ue.Code != "" {
				t.Fatalf("reversal: %+v", ue)
			}
		},
		// A second reversal of sp-1 is refused; the other body names sp-2, which could be
		// reversed under a new key.
		refuse: func(a *api, key string) userError { return a.reverse("sp-1", key) },
		other:  func(a *api, key string) userError { return a.reverse("sp-2", key) },
		change: func(a *api) {
			if ue := a.spendRefusal(200, "sp-2"); ue.Code != "" {
				t.Fatalf("spend: %+v", ue)
			}
		},
		moved:   entries,
		wantMsg: "that spend was reversed already",
		carried: func(a *api, key string) userError { return a.reverse("sp-2", key) },
	}, {
		name:   "grantStorePoints",
		setup:  func(a *api) { a.fundStore(100, "f-1") },
		refuse: func(a *api, key string) userError { return a.storeGrant(500, key) },
		other:  func(a *api, key string) userError { return a.storeGrant(50, key) },
		change: func(a *api) { a.fundStore(1000, "f-2") },
		moved:  balance,
		// 100 funded, none granted.
		wantMsg: "store-7 has 100 points left in its budget",
	}, {
		name: "claimBenefit",
		// A PLUS coupon without PLUS; then a trial begins, which holds it.
		refuse: func(a *api, key string) userError {
			return firstError(a.claimBenefit("alice", "PLUS_MONTHLY_COUPON", key).UserErrors)
		},
		other: func(a *api, key string) userError {
			return firstError(a.claimBenefit("alice", "MEMBER_PRICE", key).UserErrors)
		},
		change:  func(a *api) { a.grantPlus("alice", "TRIAL", plus.SourceTrial, 0, "trial-alice") },
		moved:   func(a *api) int { return a.claimCount() },
		wantMsg: "PLUS_MONTHLY_COUPON is a PLUS benefit and the member has no PLUS term running",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				a := newAPI(t, db)
				a.register("alice", nil)
				if tc.setup != nil {
					tc.setup(a)
				}
				first := tc.refuse(a, "k-1")
				if first.Code != "FAILED_PRECONDITION" || first.Message != tc.wantMsg {
					t.Fatalf("first answer: %+v, want FAILED_PRECONDITION %q", first, tc.wantMsg)
				}
				tc.change(a)
				before := tc.moved(a)
				if again := tc.refuse(a, "k-1"); !equalErrors(again, first) {
					t.Errorf("retry after the change: %+v, want the first refusal %+v", again, first)
				}
				if after := tc.moved(a); after != before {
					t.Errorf("the replayed refusal moved something: %d, was %d", after, before)
				}
				if ue := tc.other(a, "k-1"); ue.Code != "CONFLICT" {
					t.Errorf("another body under the refused key: %+v, want CONFLICT", ue)
				}
				if after := tc.moved(a); after != before {
					t.Errorf("the conflicting request moved something: %d, was %d", after, before)
				}
				// The state did change: under a new key the request goes through.
				carried := tc.carried
				if carried == nil {
					carried = tc.refuse
				}
				if ue := carried(a, "k-2"); ue.Code != "" {
					t.Errorf("under a new key after the change: %+v, want it carried out", ue)
				}
			})
		})
	}
}

func equalErrors(a, b userError) bool {
	return a.Code == b.Code && a.Message == b.Message && fmt.Sprint(a.Field) == fmt.Sprint(b.Field)
}

// TestRefusalRaceOneOutcome: requests racing under one key while the member is topped up
// get one outcome between them, the refusal or the spend, never both: whichever the unique
// key recorded first. On SQLite the transactions queue; on MariaDB they race.
func TestRefusalRaceOneOutcome(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		const racers = 12
		answers := make([]change, racers)
		var wg sync.WaitGroup
		// The top-up starts first, so that either can reach the key first.
		wg.Go(func() { a.mustAdjust(1000, "top-up") })
		for i := range racers {
			wg.Go(func() {
				answers[i] = a.change(auth.RoleService, spendMutation, "spendPoints", map[string]any{"externalId": "alice",
					"points": 500, "purpose": "EXCHANGE", "idempotencyKey": "race"})
			})
		}
		wg.Wait()
		refused, carried := 0, 0
		for _, c := range answers {
			switch {
			case codeOf(c) == "FAILED_PRECONDITION" && c.UserErrors[0].Message == "insufficient points: 0 spendable":
				refused++
			case codeOf(c) == "" && c.Entry != nil && c.Entry.Amount == -500:
				if !c.Replayed {
					carried++
				}
			default:
				t.Errorf("answer %+v", c)
			}
		}
		p := a.points("alice")
		switch {
		case refused == racers && p.Balance == 1000 && p.Entries.TotalCount == 1:
		case refused == 0 && carried == 1 && p.Balance == 500 && p.Entries.TotalCount == 2:
		default:
			t.Errorf("%d refused, %d carried out of %d; balance %d in %d entries: want all refused (1000 in 1) or one spend (500 in 2)",
				refused, carried, racers, p.Balance, p.Entries.TotalCount)
		}
		t.Logf("%d of %d answered the refusal", refused, racers)
	})
}

// TestPartnerRefusalsKeepTheirKey: claimPartnerBenefit refused by the partner answers the
// same refusal to a retry after the partner would grant it, and a partner's award refused
// for its budget stays refused after the budget is funded; another body is a CONFLICT.
func TestPartnerRefusalsKeepTheirKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _, _ := newPartnerAPI(t, db)
		a.register("alice", nil)
		admin, alice := a.token(auth.RoleAdmin, "ops"), a.token(auth.RoleMember, "alice")

		_, _, first := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v-1", nil)
		if first.Code != "FAILED_PRECONDITION" || !strings.HasPrefix(first.Message, "videovip refused VIP_YEAR: ") {
			t.Fatalf("claim of a Registered member: %+v", first)
		}
		var conf struct {
			ConfigurePartner struct{ UserErrors []userError }
		}
		a.must(admin, `mutation { configurePartner(input: {partner: "videovip", config: [{key: "eligible_members", value: "alice"}]}) { userErrors { code } } }`, nil, &conf)
		g, replayed, again := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v-1", nil)
		if !equalErrors(again, first) || g.Status != "REFUSED" || !replayed {
			t.Errorf("retry once eligible: %+v %v %+v, want the first refusal %+v", g, replayed, again, first)
		}
		if _, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v-1", map[string]string{"x": "y"}); ue.Code != "CONFLICT" {
			t.Errorf("another claim under the refused key: %+v", ue)
		}
		if g, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v-2", nil); ue.Code != "" || g.Status != "GRANTED" {
			t.Errorf("under a new key: %+v %+v", g, ue)
		}

		// The co-branded card's spend report awards points from the bank's budget: none yet.
		if g, _, ue := a.claim(alice, "alice", "cobrandcard", "CARD_LINK", "card-1", map[string]string{"token": "tok_9f8e7d6c", "last4": "4242"}); ue.Code != "" {
			t.Fatalf("link: %+v %+v", g, ue)
		}
		bank := a.token(auth.RolePartner, "cobrandcard")
		report := func(key string, cents int) userError {
			var out struct {
				ReportPartnerActivity struct{ UserErrors []userError }
			}
			a.must(bank, `mutation($k: String!, $c: Int!) { reportPartnerActivity(input: {partner: "cobrandcard", externalId: "alice", kind: "CARD_SPEND", amountCents: $c, idempotencyKey: $k}) {
				userErrors { field code message } } }`, map[string]any{"k": key, "c": cents}, &out)
			return firstError(out.ReportPartnerActivity.UserErrors)
		}
		// ¥123.40 at the card's default 1,000 cents a point: 12 points of an empty budget.
		refusedReport := report("spend-1", 12340)
		if refusedReport.Code != "FAILED_PRECONDITION" || !strings.Contains(refusedReport.Message, "PARTNER:cobrandcard has 0 points left in its budget") {
			t.Fatalf("award beyond the budget: %+v", refusedReport)
		}
		a.must(admin, `mutation { fundPartnerBudget(input: {partner: "cobrandcard", points: 200, reason: "bank budget", idempotencyKey: "f1"}) { userErrors { code } } }`, nil, &conf)
		before := a.points("alice")
		if again := report("spend-1", 12340); !equalErrors(again, refusedReport) {
			t.Errorf("resent report once funded: %+v, want %+v", again, refusedReport)
		}
		if ue := report("spend-1", 50000); ue.Code != "CONFLICT" {
			t.Errorf("another report under the refused key: %+v, want CONFLICT", ue)
		}
		if after := a.points("alice"); after.Balance != before.Balance || after.Entries.TotalCount != before.Entries.TotalCount {
			t.Errorf("replays moved points: %+v, was %+v", after, before)
		}
		if ue := report("spend-2", 12340); ue.Code != "" {
			t.Errorf("a new report once funded: %+v", ue)
		}
		// A report naming no member (or one the partner has no benefit with) is NOT_FOUND,
		// as in every other operation.
		var unknown struct {
			ReportPartnerActivity struct{ UserErrors []userError }
		}
		a.must(bank, `mutation { reportPartnerActivity(input: {partner: "cobrandcard", externalId: "nobody", kind: "CARD_SPEND", amountCents: 100, idempotencyKey: "spend-3"}) {
			userErrors { field code message } } }`, nil, &unknown)
		if ue := firstError(unknown.ReportPartnerActivity.UserErrors); ue.Code != "NOT_FOUND" || fmt.Sprint(ue.Field) != "[input externalId]" {
			t.Errorf("a report for an unknown member: %+v, want NOT_FOUND on input.externalId", ue)
		}
	})
}

// answerCode is the code an operation answered: its payload's first userError, the first
// event result's code for recordEvents, or the GraphQL error's extensions.code.
func answerCode(r result, field string) string {
	if c := r.code(); c != "" {
		return c
	}
	var p struct {
		UserErrors []userError
		Results    []struct{ Code *string }
	}
	json.Unmarshal(r.Data[field], &p)
	switch {
	case len(p.UserErrors) > 0:
		return p.UserErrors[0].Code
	case len(p.Results) > 0 && p.Results[0].Code != nil:
		return *p.Results[0].Code
	}
	return ""
}

// TestOneCodePerKindOfAnswer: every operation naming a member that does not exist answers
// NOT_FOUND, whether a query (a GraphQL error) or a mutation (a userError); every keyed
// operation answers a key reused for another body with CONFLICT.
func TestOneCodePerKindOfAnswer(t *testing.T) {
	type op struct {
		name, field, query string
		vars               map[string]any
	}
	in := func(v map[string]any) map[string]any { return map[string]any{"input": v} }
	unknown := []op{
		{"pointsQuote", "pointsQuote", `{ pointsQuote(externalId: "nobody", orderAmountCents: 10000) { maxPoints } }`, nil},
		{"plusQuote", "plusQuote", `{ plusQuote(externalId: "nobody") { trialOpen } }`, nil},
		{"spendPoints", "spendPoints", `mutation($input: SpendPointsInput!) { spendPoints(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "points": 10, "purpose": "EXCHANGE", "idempotencyKey": "u-1"})},
		{"adjustPoints", "adjustPoints", `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "points": 10, "reason": "goodwill", "idempotencyKey": "u-2"})},
		{"grantStorePoints", "grantStorePoints", `mutation($input: GrantStorePointsInput!) { grantStorePoints(input: $input) { userErrors { code } } }`,
			in(map[string]any{"storeId": "store-7", "externalId": "nobody", "points": 10, "reason": "opening", "idempotencyKey": "u-3"})},
		{"claimBenefit", "claimBenefit", `mutation($input: ClaimBenefitInput!) { claimBenefit(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "benefitKey": "MEMBER_PRICE", "idempotencyKey": "u-4"})},
		{"claimPartnerBenefit", "claimPartnerBenefit", `mutation($input: ClaimPartnerBenefitInput!) { claimPartnerBenefit(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "partner": "videovip", "benefit": "VIP_YEAR", "idempotencyKey": "u-5"})},
		{"purchasePlus", "purchasePlus", `mutation($input: PurchasePlusInput!) { purchasePlus(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "plan": "ANNUAL", "amountCents": 14900, "paymentRef": "pay-1", "idempotencyKey": "u-6"})},
		{"startPlusTrial", "startPlusTrial", `mutation($input: StartPlusTrialInput!) { startPlusTrial(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "idempotencyKey": "u-7"})},
		{"cancelPlus", "cancelPlus", `mutation($input: CancelPlusInput!) { cancelPlus(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "refund": false, "reason": "asked", "idempotencyKey": "u-8"})},
		{"redeemPlusCode", "redeemPlusCode", `mutation($input: RedeemPlusCodeInput!) { redeemPlusCode(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "code": "ABCD-EFGH-JKMN-PQRS-T"})},
		{"updateMember", "updateMember", `mutation($input: UpdateMemberInput!) { updateMember(input: $input) { userErrors { code } } }`,
			in(map[string]any{"externalId": "nobody", "nickname": "ghost"})},
		{"recordEvents", "recordEvents", recordMutation, map[string]any{"events": []map[string]any{{"idempotencyKey": "u-9", "externalId": "nobody",
			"kind": "CHECK_IN", "channel": "APP", "occurredAt": "2026-11-22T08:00:00Z"}}}},
	}
	spend := func(pts int) map[string]any {
		return in(map[string]any{"externalId": "alice", "points": pts, "purpose": "EXCHANGE", "idempotencyKey": "c-spend"})
	}
	const spendQ = `mutation($input: SpendPointsInput!) { spendPoints(input: $input) { userErrors { code } } }`
	adjust := func(pts int) map[string]any {
		return in(map[string]any{"externalId": "alice", "points": pts, "reason": "goodwill", "idempotencyKey": "c-adjust"})
	}
	const adjustQ = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { userErrors { code } } }`
	fund := func(pts int) map[string]any {
		return in(map[string]any{"storeId": "store-7", "points": pts, "reason": "promotion", "idempotencyKey": "c-fund"})
	}
	const fundQ = `mutation($input: FundStoreBudgetInput!) { fundStoreBudget(input: $input) { userErrors { code } } }`
	grant := func(pts int) map[string]any {
		return in(map[string]any{"storeId": "store-7", "externalId": "alice", "points": pts, "reason": "opening", "idempotencyKey": "c-grant"})
	}
	const grantQ = `mutation($input: GrantStorePointsInput!) { grantStorePoints(input: $input) { userErrors { code } } }`
	reverse := func(spendKey string) map[string]any {
		return in(map[string]any{"spendIdempotencyKey": spendKey, "idempotencyKey": "c-reverse"})
	}
	const reverseQ = `mutation($input: ReverseSpendInput!) { reverseSpend(input: $input) { userErrors { code } } }`
	claim := func(benefit string) map[string]any {
		return in(map[string]any{"externalId": "alice", "benefitKey": benefit, "idempotencyKey": "c-claim"})
	}
	const claimQ = `mutation($input: ClaimBenefitInput!) { claimBenefit(input: $input) { userErrors { code } } }`
	purchase := func(ref string) map[string]any {
		return in(map[string]any{"externalId": "alice", "plan": "ANNUAL", "amountCents": 14900, "paymentRef": ref, "idempotencyKey": "c-plus"})
	}
	const purchaseQ = `mutation($input: PurchasePlusInput!) { purchasePlus(input: $input) { userErrors { code } } }`
	cancel := func(refund bool) map[string]any {
		return in(map[string]any{"externalId": "alice", "refund": refund, "reason": "asked", "idempotencyKey": "c-cancel"})
	}
	const cancelQ = `mutation($input: CancelPlusInput!) { cancelPlus(input: $input) { userErrors { code } } }`
	event := func(kind string) map[string]any {
		return map[string]any{"events": []map[string]any{{"idempotencyKey": "c-event", "externalId": "alice", "kind": kind, "channel": "APP",
			"occurredAt": "2026-11-22T08:00:00Z"}}}
	}
	// Each pair: the first call is carried out (or refused: a refusal keeps its key too), the
	// second reuses its key with another body.
	reused := []struct {
		name, field, query string
		first, second      map[string]any
	}{
		{"spendPoints", "spendPoints", spendQ, spend(100), spend(200)},
		{"adjustPoints", "adjustPoints", adjustQ, adjust(300), adjust(400)},
		{"reverseSpend", "reverseSpend", reverseQ, reverse("c-spend"), reverse("c-adjust")},
		{"fundStoreBudget", "fundStoreBudget", fundQ, fund(100), fund(200)},
		{"grantStorePoints", "grantStorePoints", grantQ, grant(10), grant(20)},
		{"claimBenefit", "claimBenefit", claimQ, claim("MEMBER_PRICE"), claim("PLUS_MONTHLY_COUPON")},
		{"purchasePlus", "purchasePlus", purchaseQ, purchase("pay-a"), purchase("pay-b")},
		{"cancelPlus", "cancelPlus", cancelQ, cancel(false), cancel(true)},
		{"recordEvents", "recordEvents", recordMutation, event("CHECK_IN"), event("LOGIN")},
	}
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "ops")
		for _, o := range unknown {
			token := admin
			if o.name == "redeemPlusCode" {
				token = a.token(auth.RoleService, "shop") // redemption is a member's or the shop's
			}
			if got := answerCode(a.do(token, o.query, o.vars), o.field); got != "NOT_FOUND" {
				t.Errorf("%s for an unknown member: %q, want NOT_FOUND", o.name, got)
			}
		}
		a.mustAdjust(1000, "c-top-up") // so that the spend and the store's grant go through
		for _, o := range reused {
			if got := answerCode(a.do(admin, o.query, o.first), o.field); got != "" && got != "FAILED_PRECONDITION" {
				t.Errorf("%s first: %q", o.name, got)
			}
			if got := answerCode(a.do(admin, o.query, o.second), o.field); got != "CONFLICT" {
				t.Errorf("%s with its key reused for another body: %q, want CONFLICT", o.name, got)
			}
		}
	})
}

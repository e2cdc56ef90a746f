package graph_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// grantPlus gives member a term through the one way in every channel takes, plus.Service.Grant,
// on the server's ledger and clock, and returns the term's start and end.
func (a *api) grantPlus(externalID, plan, source string, paidCents int64, key string) (time.Time, time.Time) {
	a.t.Helper()
	ctx := context.Background()
	pid, err := program.NewService(a.db.Client).IDByKey(ctx, program.PresetKey)
	if err != nil {
		a.t.Fatal(err)
	}
	svc := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "shop", ProgramID: pid})
	ps := plus.NewService(a.db.Client, a.ledger)
	id, err := ps.MemberID(svc, externalID)
	if err != nil {
		a.t.Fatal(err)
	}
	res, err := ps.Grant(svc, plus.GrantRequest{MemberID: id, Plan: plan, Source: source, PaidCents: paidCents,
		PaymentRef: "pay-" + key, IdempotencyKey: key})
	if err != nil {
		a.t.Fatalf("grant %s to %s: %v", plan, externalID, err)
	}
	return res.Term.StartAt, res.Term.EndAt
}

type entryView struct {
	Kind, Funding string
	Amount        int
}

func (a *api) entries(member string) []entryView {
	a.t.Helper()
	var out []entryView
	for _, e := range a.points(member).Entries.Edges {
		out = append(out, entryView{e.Node.Kind, e.Node.Funding, e.Node.Amount})
	}
	slices.SortFunc(out, func(x, y entryView) int { return x.Amount - y.Amount })
	return out
}

// TestPlusTenfoldPointsThroughRecordEvents: a PLUS member's purchase earns the base reward and a
// separate 9× bonus funded by PLUS (docs/domain.md §3 "PLUS bonus"), and a refund takes both
// back, each from its funder.
//
// The cap: §3 caps the purchase reward of a line (1,000; 2,000 through the app), and the PLUS
// bonus is 10× "the purchase reward", the base entry plus 9× of it. So the cap applies to the
// base, and the bonus multiplies the capped base: a ¥20,000 web line earns 1,000 + 9,000.
func TestPlusTenfoldPointsThroughRecordEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("pat", nil)  // PLUS
		a.register("norm", nil) // not PLUS: the same orders earn 1×
		a.grantPlus("pat", "ANNUAL", plus.SourcePurchase, 14900, "buy-pat")
		now := a.now()
		res := a.record(
			at(orderEvent("p1", "pat", "P-1", "WEB", ln("phone", "PHONES", 123400)), now),
			at(orderEvent("p2", "pat", "P-2", "WEB", ln("tv", "APPLIANCES", 2000000)), now),
			at(orderEvent("n1", "norm", "N-1", "WEB", ln("phone", "PHONES", 123400)), now),
		)
		// ¥1,234 floors to ¥1,230: 123 points, and 9 × 123 = 1,107 from PLUS: 1,230.
		// ¥20,000: 2,000 capped at 1,000 on the web, and 9,000 from PLUS: 10,000.
		for i, want := range []int{1230, 10000, 123} {
			if res[i].Status != "ACCEPTED" || res[i].Points != want {
				t.Errorf("event %d: %+v, want ACCEPTED with %d points", i, res[i], want)
			}
		}
		wantPat := []entryView{{"PURCHASE", "PLATFORM", 123}, {"PURCHASE", "PLATFORM", 1000}, {"PLUS_BONUS", "PLUS", 1107}, {"PLUS_BONUS", "PLUS", 9000}}
		if got := a.entries("pat"); !reflect.DeepEqual(got, wantPat) {
			t.Errorf("pat's entries %+v, want %+v", got, wantPat)
		}
		if got := a.entries("norm"); !reflect.DeepEqual(got, []entryView{{"PURCHASE", "PLATFORM", 123}}) {
			t.Errorf("norm's entries %+v, want the base alone", got)
		}

		// Refunding the phone takes back 123 to the platform and 1,107 to PLUS.
		a.clock.Advance(time.Hour)
		r := a.record(at(map[string]any{"idempotencyKey": "p1-back", "externalId": "pat", "kind": "ORDER_REFUNDED", "channel": "WEB",
			"orderId": "P-1", "skus": []string{"phone"}}, a.now()))
		if r[0].Status != "ACCEPTED" || r[0].Points != -1230 || r[0].DebtPoints != 0 {
			t.Errorf("refund: %+v, want ACCEPTED with -1230 points and no debt", r[0])
		}
		wantPat = append([]entryView{{"REFUND", "PLUS", -1107}, {"REFUND", "PLATFORM", -123}}, wantPat...)
		if got := a.entries("pat"); !reflect.DeepEqual(got, wantPat) {
			t.Errorf("after the refund pat's entries %+v, want %+v", got, wantPat)
		}
		if p := a.points("pat"); p.Balance != 10000 {
			t.Errorf("balance %d, want the television's 10,000", p.Balance)
		}
	})
}

type memberBenefitView struct {
	Benefit   struct{ Key string }
	Source    string
	Used      int
	Remaining *int
}

func (a *api) memberBenefits(member string) []string {
	a.t.Helper()
	var out struct {
		Member struct{ Benefits []memberBenefitView }
	}
	a.must(a.token(auth.RoleMember, member), `query($m: String!) { member(externalId: $m) { benefits { benefit { key } source used remaining } } }`,
		map[string]any{"m": member}, &out)
	var ks []string
	for _, b := range out.Member.Benefits {
		s := b.Source + ":" + b.Benefit.Key
		if b.Remaining != nil {
			s += fmt.Sprintf("(%d/%d)", b.Used, b.Used+*b.Remaining)
		}
		ks = append(ks, s)
	}
	return ks
}

type claimView struct {
	Claim *struct {
		Source         string
		FaceValueCents int
		Period         string
	}
	Remaining  *int
	Replayed   bool
	UserErrors []userError
}

func (a *api) claimBenefit(member, key, idem string) claimView {
	a.t.Helper()
	var out struct{ ClaimBenefit claimView }
	a.must(a.token(auth.RoleMember, member), `mutation($m: String!, $b: String!, $k: String!) {
		claimBenefit(input: {externalId: $m, benefitKey: $b, idempotencyKey: $k}) {
			claim { source faceValueCents period } remaining replayed userErrors { field message code } } }`,
		map[string]any{"m": member, "b": key, "k": idem}, &out)
	return out.ClaimBenefit
}

// TestPlusBenefitsWhilePlus: PLUS's catalogue is listed beside the tier's while a term runs,
// claimable within its quota, each claim recording its face value, and refused from the
// term's end instant, with no job run.
func TestPlusBenefitsWhilePlus(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("tia", nil)
		tierOnly := []string{"TIER:MEMBER_PRICE"}
		if got := a.memberBenefits("tia"); !reflect.DeepEqual(got, tierOnly) {
			t.Errorf("before PLUS: %v, want %v", got, tierOnly)
		}
		if c := a.claimBenefit("tia", "PLUS_MONTHLY_COUPON", "c-early"); c.Claim != nil || len(c.UserErrors) != 1 || c.UserErrors[0].Code != "FAILED_PRECONDITION" {
			t.Errorf("a PLUS coupon before PLUS: %+v, want FAILED_PRECONDITION", c)
		}

		// The 30-day trial, from 22 November 2026 16:00 in Shanghai to 22 December 16:00.
		_, end := a.grantPlus("tia", "TRIAL", plus.SourceTrial, 0, "trial-tia")
		if want := time.Date(2026, 12, 22, 8, 0, 0, 0, time.UTC); !end.Equal(want) {
			t.Fatalf("trial ends %v, want %v", end, want)
		}
		// By kind (PRICE, LOGISTICS, SERVICE, VALUE_ADDED), then key; the quotas are the
		// preset's: four ¥10 coupons and two return pickups a month.
		withPlus := []string{"TIER:MEMBER_PRICE", "PLUS:PLUS_APPAREL_10_OFF", "PLUS:PLUS_EXTRA_5_OFF", "PLUS:PLUS_MONTHLY_COUPON(0/4)",
			"PLUS:PLUS_FREE_RETURN_PICKUP(0/2)", "PLUS:PLUS_VIP_HOTLINE", "PLUS:PLUS_HEALTH_VIP"}
		if got := a.memberBenefits("tia"); !reflect.DeepEqual(got, withPlus) {
			t.Errorf("while PLUS: %v, want %v", got, withPlus)
		}
		// The early refusal wrote nothing: four coupons are still there.
		for i := range 4 {
			c := a.claimBenefit("tia", "PLUS_MONTHLY_COUPON", fmt.Sprintf("c-%d", i))
			if c.Claim == nil || c.Claim.Source != "PLUS" || c.Claim.FaceValueCents != 1000 || c.Claim.Period != "2026-11" ||
				c.Remaining == nil || *c.Remaining != 3-i {
				t.Fatalf("coupon %d: %+v, want a PLUS claim worth ¥10 with %d left", i, c, 3-i)
			}
		}
		if c := a.claimBenefit("tia", "PLUS_MONTHLY_COUPON", "c-4"); c.Claim != nil || len(c.UserErrors) != 1 || c.UserErrors[0].Code != "FAILED_PRECONDITION" {
			t.Errorf("a fifth coupon in November: %+v, want FAILED_PRECONDITION", c)
		}
		if c := a.claimBenefit("tia", "PLUS_MONTHLY_COUPON", "c-3"); !c.Replayed || c.Claim == nil || *c.Remaining != 0 {
			t.Errorf("a replayed claim: %+v, want the first claim again", c)
		}
		for i := range 2 {
			if c := a.claimBenefit("tia", "PLUS_FREE_RETURN_PICKUP", fmt.Sprintf("r-%d", i)); c.Claim == nil || c.Claim.FaceValueCents != 0 {
				t.Errorf("pickup %d: %+v", i, c)
			}
		}
		if c := a.claimBenefit("tia", "PLUS_FREE_RETURN_PICKUP", "r-2"); c.Claim != nil || c.UserErrors[0].Code != "FAILED_PRECONDITION" {
			t.Errorf("a third pickup in November: %+v, want FAILED_PRECONDITION", c)
		}
		if c := a.claimBenefit("tia", "PLUS_VIP_HOTLINE", "h-0"); c.Claim == nil || c.Remaining != nil {
			t.Errorf("the hotline: %+v, want an unlimited claim", c)
		}
		want := []string{"TIER:MEMBER_PRICE", "PLUS:PLUS_APPAREL_10_OFF", "PLUS:PLUS_EXTRA_5_OFF", "PLUS:PLUS_MONTHLY_COUPON(4/4)",
			"PLUS:PLUS_FREE_RETURN_PICKUP(2/2)", "PLUS:PLUS_VIP_HOTLINE", "PLUS:PLUS_HEALTH_VIP"}
		if got := a.memberBenefits("tia"); !reflect.DeepEqual(got, want) {
			t.Errorf("after the claims: %v, want %v", got, want)
		}

		// One second before the end, in December: a new month's coupons.
		a.clock.Set(end.Add(-time.Second))
		if c := a.claimBenefit("tia", "PLUS_MONTHLY_COUPON", "c-dec"); c.Claim == nil || c.Claim.Period != "2026-12" || *c.Remaining != 3 {
			t.Errorf("a coupon in the term's last second: %+v, want one of December's four", c)
		}
		// At the end instant PLUS holds nothing.
		a.clock.Set(end)
		if got := a.memberBenefits("tia"); !reflect.DeepEqual(got, tierOnly) {
			t.Errorf("at the end: %v, want %v", got, tierOnly)
		}
		if c := a.claimBenefit("tia", "PLUS_MONTHLY_COUPON", "c-late"); c.Claim != nil || len(c.UserErrors) != 1 ||
			c.UserErrors[0].Code != "FAILED_PRECONDITION" || !slices.Equal(c.UserErrors[0].Field, []string{"input", "benefitKey"}) {
			t.Errorf("a coupon at the end instant: %+v, want FAILED_PRECONDITION on input.benefitKey", c)
		}
	})
}

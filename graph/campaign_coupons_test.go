package graph_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/coupon"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const claimCouponMutation = `mutation($id: String!, $key: String!) {
	claimBenefit(input: {externalId: $id, benefitKey: "UPGRADE_COUPON", idempotencyKey: $key}) {
		claim { source faceValueCents benefit { key } } replayed userErrors { field code } } }`

type couponClaim struct {
	Claim *struct {
		Source         string
		FaceValueCents int
		Benefit        struct{ Key string }
	}
	Replayed   bool
	UserErrors []userError
}

type couponView struct {
	Benefit   struct{ Key string }
	Campaign  string
	IssuedAt  time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (f *campaignFixture) claimCoupon(member, key string) couponClaim {
	f.t.Helper()
	r := f.do(f.token(auth.RoleMember, member), claimCouponMutation, map[string]any{"id": member, "key": key})
	if len(r.Errors) > 0 {
		f.t.Fatalf("claimBenefit %s %s: %+v", member, key, r.Errors)
	}
	var out couponClaim
	if err := json.Unmarshal(r.Data["claimBenefit"], &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *campaignFixture) coupons(member string) []couponView {
	f.t.Helper()
	var out struct {
		Member struct{ Coupons []couponView }
	}
	f.must(f.token(auth.RoleMember, member), `query($id: String!) { member(externalId: $id) {
		coupons { benefit { key } campaign issuedAt expiresAt usedAt } } }`, map[string]any{"id": member}, &out)
	return out.Member.Coupons
}

func refusedWith(c couponClaim, code string) bool {
	return c.Claim == nil && len(c.UserErrors) == 1 && c.UserErrors[0].Code == code &&
		len(c.UserErrors[0].Field) == 2 && c.UserErrors[0].Field[1] == "benefitKey"
}

// TestCampaignCoupon: an ISSUE_COUPON campaign gives each member of its segment one coupon
// per run, which the member sees with its expiry and uses once through claimBenefit; a
// second use is ALREADY_USED, a use from the expiry on EXPIRED, racing uses one win; a run
// twice in one day issues once; the dry run counts the coupons and their face value.
func TestCampaignCoupon(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(3, 1) // app-1..app-3 in the segment "app", web-1 outside it
		// The preset's UPGRADE_COUPON has no face value; give it ¥5.00 so the dry run has a cost.
		if err := db.Client.Benefit.Update().Where(benefit.Key("UPGRADE_COUPON")).SetFaceValueCents(500).
			Exec(auth.SystemContext(f.ctx, 0)); err != nil {
			t.Fatal(err)
		}
		in := func(benefitKey string, days int) map[string]any {
			return map[string]any{"key": "gift", "name": "Gift coupon", "segment": "app",
				"trigger": map[string]any{"kind": "DAILY", "timeOfDay": "09:00"},
				"action":  map[string]any{"kind": "ISSUE_COUPON", "benefitKey": benefitKey, "validDays": days}}
		}
		// Refused at the field, creating nothing.
		for _, c := range []struct {
			in    map[string]any
			field string
			code  string
		}{
			{in("NO_SUCH_BENEFIT", 7), "benefitKey", "NOT_FOUND"},
			{in("UPGRADE_COUPON", 0), "validDays", "INVALID_ARGUMENT"},
			{in("UPGRADE_COUPON", 367), "validDays", "INVALID_ARGUMENT"},
		} {
			ue := f.create(c.in)
			if len(ue) != 1 || ue[0].Code != c.code || ue[0].Field[len(ue[0].Field)-1] != c.field {
				t.Errorf("create %v: %+v, want %s at %s", c.in["action"], ue, c.code, c.field)
			}
		}
		if n, _ := db.Client.Campaign.Query().Count(auth.SystemContext(f.ctx, 0)); n != 0 {
			t.Fatalf("%d campaigns after refusals, want 0", n)
		}
		f.mustCreate(in("UPGRADE_COUPON", 7))

		// 16:00 in Shanghai, past 09:00: today's run is due. 3 members, one coupon each at
		// ¥5.00: 3 coupons, 1500 cents; no points.
		var dry struct {
			DryRunCampaign struct {
				Cost struct{ Members, Points, CostCents, Coupons, CouponCents int }
			}
		}
		f.must(f.admin, `mutation { dryRunCampaign(input: {key: "gift"}) { cost { members points costCents coupons couponCents } } }`, nil, &dry)
		if c := dry.DryRunCampaign.Cost; c.Members != 3 || c.Points != 0 || c.CostCents != 0 || c.Coupons != 3 || c.CouponCents != 1500 {
			t.Fatalf("dry run = %+v, want 3 members, 3 coupons, 1500 cents, no points", c)
		}
		if st := f.runDue(); st.Runs != 1 || st.Done != 3 || st.Points != 0 {
			t.Fatalf("run = %+v, want 1 run hitting 3 members", st)
		}
		if st := f.runDue(); st.Runs != 0 {
			t.Fatalf("second run the same day = %+v, want none", st)
		}
		if n, _ := db.Client.Coupon.Query().Count(auth.SystemContext(f.ctx, 0)); n != 3 {
			t.Fatalf("%d coupons after two runs in a day, want 3", n)
		}

		// Issued at the clock's 2026-11-22 08:00 UTC, good for 7 days: expires 2026-11-29 08:00 UTC.
		issued := f.clock.Now()
		cs := f.coupons("app-1")
		if len(cs) != 1 || cs[0].Benefit.Key != "UPGRADE_COUPON" || cs[0].Campaign != "gift" || cs[0].UsedAt != nil ||
			!cs[0].IssuedAt.Equal(issued) || !cs[0].ExpiresAt.Equal(issued.Add(7*24*time.Hour)) {
			t.Fatalf("app-1 coupons = %+v, want one unused UPGRADE_COUPON of gift expiring 7 days after %s", cs, issued)
		}
		if cs := f.coupons("web-1"); len(cs) != 0 {
			t.Fatalf("web-1, outside the segment, has coupons %+v", cs)
		}

		// Used once: a COUPON claim at the benefit's face value; replayed by its key; a second
		// use refused.
		if c := f.claimCoupon("app-1", "use-1"); c.Claim == nil || c.Claim.Source != "COUPON" || c.Claim.FaceValueCents != 500 || c.Replayed {
			t.Fatalf("first use = %+v", c)
		}
		if c := f.claimCoupon("app-1", "use-1"); c.Claim == nil || !c.Replayed {
			t.Fatalf("replayed use = %+v, want the claim replayed", c)
		}
		if c := f.claimCoupon("app-1", "use-2"); !refusedWith(c, "ALREADY_USED") {
			t.Fatalf("second use = %+v, want ALREADY_USED at input.benefitKey", c)
		}
		if cs := f.coupons("app-1"); len(cs) != 1 || cs[0].UsedAt == nil || !cs[0].UsedAt.Equal(issued) {
			t.Fatalf("app-1 coupons after use = %+v, want used at %s", cs, issued)
		}
		// A member without a coupon of a benefit its tier lacks is refused as before.
		if c := f.claimCoupon("web-1", "web-use"); !refusedWith(c, "FAILED_PRECONDITION") {
			t.Fatalf("web-1 use = %+v, want FAILED_PRECONDITION", c)
		}

		// Racing uses of app-2's one coupon: exactly one wins, the others are ALREADY_USED.
		var wg sync.WaitGroup
		got := make([]couponClaim, 4)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := f.do(f.token(auth.RoleMember, "app-2"), claimCouponMutation, map[string]any{"id": "app-2", "key": "race-" + string(rune('a'+i))})
				_ = json.Unmarshal(r.Data["claimBenefit"], &got[i])
			}()
		}
		wg.Wait()
		won := 0
		for _, c := range got {
			switch {
			case c.Claim != nil && c.Claim.Source == "COUPON":
				won++
			case !refusedWith(c, "ALREADY_USED"):
				t.Errorf("racing use = %+v, want a claim or ALREADY_USED", c)
			}
		}
		if won != 1 {
			t.Fatalf("%d racing uses won, want 1", won)
		}
		if n, _ := db.Client.Coupon.Query().Where(coupon.UsedAtNotNil()).Count(auth.SystemContext(f.ctx, 0)); n != 2 {
			t.Fatalf("%d coupons used, want 2 (app-1, app-2)", n)
		}

		// app-3's coupon, unused, expires at 2026-11-29 08:00 UTC: at that instant it is EXPIRED.
		f.clock.Advance(7 * 24 * time.Hour)
		if c := f.claimCoupon("app-3", "late"); !refusedWith(c, "EXPIRED") {
			t.Fatalf("use at the expiry = %+v, want EXPIRED at input.benefitKey", c)
		}
	})
}

package graph_test

import (
	"slices"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const memberScoreQuery = `{ viewer {
  tier { key } nextTier { key } scoreToNextTier nextTierAdds { key }
  score { settled provisional coefficient period settledAt
    dimensions { consumption activity account coefficient counts { spendYuan purchaseDays } }
    provisionalDimensions { consumption } }
  tierHistory(first: 5) { totalCount edges { node { period direction score reason from { key } to { key } } } }
  benefits { benefit { key } source used remaining renewsAt }
} }`

type memberScoreView struct {
	Viewer struct {
		Tier            struct{ Key string }
		NextTier        *struct{ Key string }
		ScoreToNextTier *int
		NextTierAdds    []struct{ Key string }
		Score           struct {
			Settled, Provisional int
			Coefficient          float64
			Period               *string
			SettledAt            *time.Time
			Dimensions           struct {
				Consumption, Activity, Account int
				Coefficient                    float64
				Counts                         struct{ SpendYuan, PurchaseDays int }
			}
			ProvisionalDimensions struct{ Consumption int }
		}
		TierHistory struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Period, Direction, Reason string
					Score                     int
					From                      *struct{ Key string }
					To                        struct{ Key string }
				}
			}
		}
		Benefits []struct {
			Benefit   struct{ Key string }
			Source    string
			Used      int
			Remaining *int
			RenewsAt  *time.Time
		}
	}
}

func (a *api) settle(period string) map[string]any {
	a.t.Helper()
	var out struct {
		SettleScores struct {
			Settlement map[string]any
			UserErrors []userError
		}
	}
	vars := map[string]any{"p": period}
	if period == "" {
		vars["p"] = nil
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `mutation($p: String) { settleScores(input: {period: $p}) {
		settlement { period status members tierChanges } userErrors { code message } } }`, vars, &out)
	if len(out.SettleScores.UserErrors) > 0 {
		a.t.Fatalf("settleScores %s: %+v", period, out.SettleScores.UserErrors)
	}
	return out.SettleScores.Settlement
}

// TestScoreTiersAndBenefits follows a member from an order through settlement: the score
// and how it is made, the tier and what the next one adds, the history, the upgrade gift,
// and claims against the tier's quotas.
func TestScoreTiersAndBenefits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		// October: ¥3,000 on one day → 3,000 + 5 for the purchase day.
		a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("phone", "PHONES", 300000)), "2026-10-15T04:00:00Z"))
		alice := a.token(auth.RoleMember, "alice")
		var v memberScoreView
		a.must(alice, memberScoreQuery, nil, &v)
		if v.Viewer.Score.Provisional != 3005 || v.Viewer.Score.Settled != 0 || v.Viewer.Score.Period != nil || v.Viewer.Tier.Key != "REGISTERED" {
			t.Fatalf("before settlement: %+v", v.Viewer.Score)
		}
		st := a.settle("2026-11")
		if st["status"] != "DONE" || st["period"] != "2026-11" || st["members"] != float64(2) || st["tierChanges"] != float64(1) {
			t.Fatalf("settlement = %v", st)
		}
		a.must(alice, memberScoreQuery, nil, &v)
		m := v.Viewer
		if m.Tier.Key != "SILVER" || m.NextTier.Key != "GOLD" || *m.ScoreToNextTier != 4500-3005 {
			t.Fatalf("tier %s, next %+v, to go %v", m.Tier.Key, m.NextTier, m.ScoreToNextTier)
		}
		if s := m.Score; s.Settled != 3005 || *s.Period != "2026-11" || s.Coefficient != 1 || s.Dimensions.Consumption != 3005 ||
			s.Dimensions.Counts.SpendYuan != 3000 || s.Dimensions.Counts.PurchaseDays != 1 || s.SettledAt == nil {
			t.Fatalf("score = %+v", s)
		}
		adds := []string{}
		for _, b := range m.NextTierAdds {
			adds = append(adds, b.Key)
		}
		if !slices.Contains(adds, "VIP_HOTLINE") || slices.Contains(adds, "FLASH_REFUND") {
			t.Fatalf("Gold adds %v", adds)
		}
		if h := m.TierHistory; h.TotalCount != 1 || h.Edges[0].Node.Direction != "UP" || h.Edges[0].Node.From.Key != "REGISTERED" ||
			h.Edges[0].Node.To.Key != "SILVER" || h.Edges[0].Node.Period != "2026-11" || h.Edges[0].Node.Reason == "" {
			t.Fatalf("history = %+v", h)
		}
		gift := 0
		for _, e := range a.points("alice").Entries.Edges {
			if e.Node.Kind == "TIER_GIFT" {
				gift += e.Node.Amount
			}
		}
		if gift != 200 {
			t.Fatalf("upgrade gift = %d points", gift)
		}

		// Claims: Silver holds two free-shipping coupons a month.
		claim := func(token, ext, benefit, key string) (remaining *int, replayed bool, code string) {
			var out struct {
				ClaimBenefit struct {
					Claim      *struct{ Benefit struct{ Key string } }
					Remaining  *int
					Replayed   bool
					UserErrors []userError
				}
			}
			a.must(token, `mutation($e: String!, $b: String!, $k: String!) { claimBenefit(input: {externalId: $e, benefitKey: $b, idempotencyKey: $k}) {
				claim { benefit { key } } remaining replayed userErrors { code message } } }`, map[string]any{"e": ext, "b": benefit, "k": key}, &out)
			if len(out.ClaimBenefit.UserErrors) > 0 {
				return nil, false, out.ClaimBenefit.UserErrors[0].Code
			}
			return out.ClaimBenefit.Remaining, out.ClaimBenefit.Replayed, ""
		}
		if r, rep, code := claim(alice, "alice", "FREE_SHIPPING_2", "c1"); code != "" || *r != 1 || rep {
			t.Fatalf("first claim: %v %v %s", r, rep, code)
		}
		if r, rep, code := claim(alice, "alice", "FREE_SHIPPING_2", "c1"); code != "" || *r != 1 || !rep {
			t.Fatalf("replayed claim: %v %v %s", r, rep, code)
		}
		if r, _, code := claim(a.token(auth.RoleService, "orders"), "alice", "FREE_SHIPPING_2", "c2"); code != "" || *r != 0 {
			t.Fatalf("second claim: %v %s", r, code)
		}
		for _, tc := range []struct{ token, ext, benefit, key, code string }{
			{alice, "alice", "FREE_SHIPPING_2", "c3", "FAILED_PRECONDITION"}, // quota used
			{alice, "alice", "VIP_HOTLINE", "c4", "FAILED_PRECONDITION"},     // not Silver's
			{alice, "alice", "FLASH_REFUND", "c1", "CONFLICT"},               // key of another claim
			{alice, "alice", "NO_SUCH", "c5", "NOT_FOUND"},
			{a.token(auth.RoleMember, "bob"), "alice", "FLASH_REFUND", "c6", "NOT_FOUND"}, // bob cannot claim for alice
			{alice, "alice", "FLASH_REFUND", "", "INVALID_ARGUMENT"},
		} {
			if _, _, code := claim(tc.token, tc.ext, tc.benefit, tc.key); code != tc.code {
				t.Errorf("claim %s/%s/%q: %q, want %q", tc.ext, tc.benefit, tc.key, code, tc.code)
			}
		}
		a.must(alice, memberScoreQuery, nil, &v)
		for _, b := range v.Viewer.Benefits {
			switch b.Benefit.Key {
			case "FREE_SHIPPING_2":
				if b.Used != 2 || *b.Remaining != 0 || b.RenewsAt == nil || b.Source != "TIER" {
					t.Errorf("free shipping: %+v", b)
				}
			case "FLASH_REFUND":
				if b.Remaining != nil {
					t.Errorf("unlimited benefit has a quota: %+v", b)
				}
			}
		}
		if len(v.Viewer.Benefits) != 5 {
			t.Errorf("Silver lists %d benefits", len(v.Viewer.Benefits))
		}
	})
}

// TestTierTableAdministration: the what-if, a refused and an accepted table change with its
// audit entry, the next settlement moving the member, and the score settings.
func TestTierTableAdministration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("phone", "PHONES", 300000)), "2026-10-15T04:00:00Z"))
		a.settle("2026-11")
		admin := a.token(auth.RoleAdmin, "ops")

		simulate := func(th []int) map[string][2]int {
			var out struct {
				SimulateTierTable struct {
					Members int
					Tiers   []struct {
						Tier              struct{ Key string }
						Current, Proposed int
					}
				}
			}
			a.must(admin, `query($t: [Int!]!) { simulateTierTable(input: {thresholds: $t}) { members tiers { tier { key } current proposed } } }`,
				map[string]any{"t": th}, &out)
			if out.SimulateTierTable.Members != 2 {
				t.Fatalf("what-if counted %d members", out.SimulateTierTable.Members)
			}
			m := map[string][2]int{}
			for _, b := range out.SimulateTierTable.Tiers {
				m[b.Tier.Key] = [2]int{b.Current, b.Proposed}
			}
			return m
		}
		if got := simulate([]int{0, 1000, 2500, 4500, 7000}); got["SILVER"] != [2]int{1, 1} || got["REGISTERED"] != [2]int{1, 1} {
			t.Fatalf("same table: %v", got)
		}
		if got := simulate([]int{0, 1000, 3500, 4500, 7000}); got["SILVER"] != [2]int{1, 0} || got["BRONZE"] != [2]int{0, 1} {
			t.Fatalf("raised Silver: %v", got)
		}
		if r := a.do(admin, `{ simulateTierTable(input: {thresholds: [0, 10, 5, 20, 30]}) { members } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("bad thresholds: %q", r.code())
		}

		const update = `mutation($t: [TierRowInput!]!) { updateTierTable(input: {tiers: $t}) { tiers { key minScore } userErrors { field code } } }`
		row := func(key, name string, min int, benefits ...string) map[string]any {
			return map[string]any{"key": key, "name": name, "minScore": min, "benefits": benefits}
		}
		table := func(silver int) []map[string]any {
			return []map[string]any{row("REGISTERED", "Registered", 0, "MEMBER_PRICE"), row("BRONZE", "Bronze", 1000, "MEMBER_PRICE"),
				row("SILVER", "Silver", silver, "MEMBER_PRICE", "FLASH_REFUND"), row("GOLD", "Gold", 4500, "VIP_HOTLINE"),
				row("DIAMOND", "Diamond", 7000, "VIP_HOTLINE", "SERVICE_24H")}
		}
		var res struct {
			UpdateTierTable struct {
				Tiers      []struct{ Key string }
				UserErrors []userError
			}
		}
		a.must(admin, update, map[string]any{"t": table(5000)}, &res)
		if len(res.UpdateTierTable.UserErrors) == 0 || res.UpdateTierTable.UserErrors[0].Code != "INVALID_ARGUMENT" {
			t.Fatalf("non-increasing table accepted: %+v", res.UpdateTierTable)
		}
		a.must(admin, update, map[string]any{"t": table(3500)}, &res)
		if len(res.UpdateTierTable.UserErrors) > 0 {
			t.Fatalf("table refused: %+v", res.UpdateTierTable.UserErrors)
		}
		var audit struct {
			AuditEntries struct {
				TotalCount int
				Edges      []struct {
					Node struct{ Actor, Action, Before, After string }
				}
			}
		}
		a.must(admin, `{ auditEntries(first: 10) { totalCount edges { node { actor action before after } } } }`, nil, &audit)
		if audit.AuditEntries.TotalCount != 1 || audit.AuditEntries.Edges[0].Node.Actor != "ADMIN:ops" ||
			audit.AuditEntries.Edges[0].Node.Action != "updateTierTable" || audit.AuditEntries.Edges[0].Node.Before == audit.AuditEntries.Edges[0].Node.After {
			t.Fatalf("audit = %+v", audit)
		}
		// The next settlement applies the new table: 3,005 is below Silver's 3,500.
		a.clock.Set(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
		a.settle("")
		var v memberScoreView
		a.must(a.token(auth.RoleMember, "alice"), memberScoreQuery, nil, &v)
		if v.Viewer.Tier.Key != "BRONZE" || v.Viewer.TierHistory.TotalCount != 2 || v.Viewer.TierHistory.Edges[1].Node.Direction != "DOWN" {
			t.Fatalf("after the change: %s, history %+v", v.Viewer.Tier.Key, v.Viewer.TierHistory)
		}

		// Score settings: refused when invalid, audited when changed.
		const rulesMutation = `mutation($w: Int!) { updateScoreRules(input: {mode: ROLLING, windowMonths: $w,
			weights: {spendYuan: 2, order: 0, purchaseDay: 5, loginDay: 1, review: 2, photoReview: 3, answer: 1, share: 1, realName: 50, boundAccount: 20, boundAccountMax: 2},
			coefficient: {ordinaryPercent: 100, riskBelow: 40, riskPercent: 80, bands: []}}) { scoreRules { weights { spendYuan } } userErrors { code } } }`
		var sr struct {
			UpdateScoreRules struct {
				ScoreRules *struct{ Weights struct{ SpendYuan int } }
				UserErrors []userError
			}
		}
		a.must(admin, rulesMutation, map[string]any{"w": 0}, &sr)
		if len(sr.UpdateScoreRules.UserErrors) != 1 || sr.UpdateScoreRules.UserErrors[0].Code != "INVALID_ARGUMENT" {
			t.Fatalf("window 0 accepted: %+v", sr)
		}
		a.must(admin, rulesMutation, map[string]any{"w": 12}, &sr)
		if sr.UpdateScoreRules.ScoreRules == nil || sr.UpdateScoreRules.ScoreRules.Weights.SpendYuan != 2 {
			t.Fatalf("rules = %+v", sr)
		}
		a.must(a.token(auth.RoleMember, "alice"), memberScoreQuery, nil, &v)
		if v.Viewer.Score.Provisional != 2*3000+5 { // the provisional score uses the new weights at once
			t.Fatalf("provisional after the change: %d", v.Viewer.Score.Provisional)
		}
		a.must(admin, `{ auditEntries(first: 10) { totalCount edges { node { actor action before after } } } }`, nil, &audit)
		if audit.AuditEntries.TotalCount != 2 || audit.AuditEntries.Edges[0].Node.Action != "updateScoreRules" {
			t.Fatalf("audit = %+v", audit)
		}
	})
}

// TestScoreAuthorization: the operations of the score issue by role.
func TestScoreAuthorization(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		ops := []string{
			`mutation { settleScores(input: {period: "2026-11"}) { userErrors { code } } }`,
			`mutation { updateTierTable(input: {tiers: []}) { userErrors { code } } }`,
			`mutation { claimBenefit(input: {externalId: "alice", benefitKey: "MEMBER_PRICE", idempotencyKey: "k"}) { userErrors { code } } }`,
			`{ simulateTierTable(input: {thresholds: [0, 1, 2, 3, 4]}) { members } }`,
			`{ settlements(first: 5) { period } }`,
			`{ auditEntries(first: 5) { totalCount } }`,
			`{ program { scoreRules { mode } } }`,
		}
		const F = "FORBIDDEN"
		a.checkRoles(ops, map[auth.Role][]string{
			auth.RoleAdmin:   {"", "", "", "", "", "", ""},
			auth.RoleService: {F, F, "", F, F, F, F},
			auth.RoleMember:  {F, F, "", F, F, F, F},
			auth.RoleStore:   {F, F, F, F, F, F, F},
			auth.RolePartner: {F, F, F, F, F, F, F},
		})
	})
}

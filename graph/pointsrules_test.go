package graph_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const pointsRulesFields = `earning { purchaseMinLineCents purchaseStepCents purchaseMilliPointsPerYuan purchaseLineCap purchaseLineCapApp
	excludedCategories excludedProductTypes excludedOrderTypes excludedPaymentMethods plusMultiplier review photoReview checkIn
	firstMobileOrderOfDay pendingDays }
	spending { deductionStep deductionMinBalance deductionMaxPercent } expiry { yearsAfterEarning }`

const updatePointsRulesMutation = `mutation($input: UpdatePointsRulesInput!) { updatePointsRules(input: $input) {
	pointsRules { ` + pointsRulesFields + ` } userErrors { field code message } } }`

// pointsRules reads program.pointsRules as ADMIN, as the map an updatePointsRules input is.
func (a *api) pointsRules() map[string]any {
	a.t.Helper()
	var out struct {
		Program struct{ PointsRules map[string]any }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `{ program { pointsRules { `+pointsRulesFields+` } } }`, nil, &out)
	return out.Program.PointsRules
}

func (a *api) updatePointsRules(input map[string]any) (map[string]any, []userError) {
	a.t.Helper()
	var out struct {
		UpdatePointsRules struct {
			PointsRules map[string]any
			UserErrors  []userError
		}
	}
	a.must(a.token(auth.RoleAdmin, "ops"), updatePointsRulesMutation, map[string]any{"input": input}, &out)
	return out.UpdatePointsRules.PointsRules, out.UpdatePointsRules.UserErrors
}

// clone deep-copies a rules map, so a test changes one copy only.
func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func section(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// TestUpdatePointsRules: the preset's rules as the API shows them; a change of the purchase
// rate and the line minimum that the next order earns by; bad values each named and nothing
// written; the audit entry; ADMIN only.
func TestUpdatePointsRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		preset := a.pointsRules()
		e := section(preset, "earning")
		if e["purchaseMinLineCents"] != float64(5000) || e["purchaseMilliPointsPerYuan"] != float64(100) || e["purchaseLineCap"] != float64(1000) ||
			!reflect.DeepEqual(e["excludedProductTypes"], []any{"SERVICE", "VIRTUAL"}) ||
			!reflect.DeepEqual(e["excludedCategories"], []any{"AGRICULTURAL_SUPPLIES", "INVESTMENT_METALS", "WHOLE_VEHICLES"}) ||
			section(preset, "spending")["deductionStep"] != float64(1000) || section(preset, "expiry")["yearsAfterEarning"] != float64(1) {
			t.Fatalf("preset rules = %v", preset)
		}
		lines := []map[string]any{ln("a", "PHONES", 2500), ln("b", "PHONES", 3500), ln("c", "PHONES", 5700)}
		// Before: only the ¥57 line reaches ¥50; floored to ¥50, 10% = 5 points.
		if r := a.record(at(orderEvent("o1", "alice", "o1", "WEB", lines...), a.now())); r[0].Points != 5 {
			t.Fatalf("order under the preset earned %d, want 5", r[0].Points)
		}

		// 20% from ¥30: ¥25 earns nothing, ¥35 → ¥30 → 6, ¥57 → ¥50 → 10: 16 points.
		changed := clone(preset)
		section(changed, "earning")["purchaseMilliPointsPerYuan"] = 200
		section(changed, "earning")["purchaseMinLineCents"] = 3000
		got, ue := a.updatePointsRules(changed)
		if len(ue) > 0 || section(got, "earning")["purchaseMilliPointsPerYuan"] != float64(200) {
			t.Fatalf("update: %v %+v", got, ue)
		}
		if r := a.record(at(orderEvent("o2", "alice", "o2", "WEB", lines...), a.now())); r[0].Points != 16 {
			t.Fatalf("order under the new rules earned %d, want 16", r[0].Points)
		}

		// Every bad value is named; nothing is written.
		bad := clone(changed)
		section(bad, "earning")["purchaseStepCents"] = 0
		section(bad, "earning")["excludedCategories"] = []string{"INVESTMENT_METALS", "NOPE"}
		section(bad, "earning")["excludedOrderTypes"] = []string{"GROUP_BUY", "GROUP_BUY"}
		section(bad, "earning")["pendingDays"] = -1
		section(bad, "spending")["deductionMaxPercent"] = 150
		section(bad, "expiry")["yearsAfterEarning"] = 11
		got, ue = a.updatePointsRules(bad)
		var fields []string
		for _, u := range ue {
			if u.Code != "INVALID_ARGUMENT" {
				t.Errorf("%v: code %s", u.Field, u.Code)
			}
			fields = append(fields, strings.Join(u.Field, "."))
		}
		slices.Sort(fields)
		want := []string{"input.earning.excludedCategories.1", "input.earning.excludedOrderTypes.1", "input.earning.pendingDays",
			"input.earning.purchaseStepCents", "input.expiry.yearsAfterEarning", "input.spending.deductionMaxPercent"}
		if got != nil || !slices.Equal(fields, want) {
			t.Fatalf("bad input: %v, fields %v, want %v", got, fields, want)
		}
		if now := a.pointsRules(); !reflect.DeepEqual(now, clone(changed)) {
			t.Fatalf("a refused input changed the rules: %v", now)
		}

		var audit struct {
			AuditEntries struct {
				Edges []struct {
					Node struct{ Actor, Action, Before, After string }
				}
			}
		}
		a.must(a.token(auth.RoleAdmin, "ops"), `{ auditEntries(first: 10) { edges { node { actor action before after } } } }`, nil, &audit)
		if e := audit.AuditEntries.Edges; len(e) != 1 || e[0].Node.Action != "updatePointsRules" || e[0].Node.Actor != "ADMIN:ops" ||
			!strings.Contains(e[0].Node.Before, `"purchaseMilliPointsPerYuan":100`) || !strings.Contains(e[0].Node.After, `"purchaseMilliPointsPerYuan":200`) ||
			!strings.Contains(e[0].Node.After, `"purchaseMinLineCents":3000`) {
			t.Fatalf("audit = %+v", audit)
		}

		for _, role := range []auth.Role{auth.RoleService, auth.RoleMember, auth.RoleStore, auth.RolePartner} {
			if c := a.do(a.token(role, "alice"), updatePointsRulesMutation, map[string]any{"input": bad}).code(); c != "FORBIDDEN" {
				t.Errorf("%s updatePointsRules: %q", role, c)
			}
			if c := a.do(a.token(role, "alice"), `{ program { pointsRules { spending { deductionStep } } } }`, nil).code(); c != "FORBIDDEN" {
				t.Errorf("%s pointsRules: %q", role, c)
			}
		}
	})
}

// TestPointsQuoteReasons: each reason pointsQuote gives, with figures worked by hand from
// docs/domain.md §3 (steps of 1,000 points = ¥10, a balance of at least 1,000, at most 50% of the
// order) and from changed rules.
func TestPointsQuoteReasons(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		a.adjust("alice", 800, "adj-a")
		a.adjust("bob", 2500, "adj-b")
		type quote struct {
			MaxPoints, MaxDeductionCents, Balance int
			Reason, Message                       string
		}
		ask := func(ext string, cents int) quote {
			t.Helper()
			var out struct{ PointsQuote quote }
			a.must(a.token(auth.RoleService, "orders"), `query($e: String!, $c: Int!) { pointsQuote(externalId: $e, orderAmountCents: $c) {
				maxPoints maxDeductionCents balance reason message } }`, map[string]any{"e": ext, "c": cents}, &out)
			return out.PointsQuote
		}
		check := func(name string, q quote, reason string, maxPoints, cents int, inMessage ...string) {
			t.Helper()
			if q.Reason != reason || q.MaxPoints != maxPoints || q.MaxDeductionCents != cents {
				t.Errorf("%s: %+v, want %s with %d points (%d cents)", name, q, reason, maxPoints, cents)
			}
			for _, s := range inMessage {
				if !strings.Contains(q.Message, s) {
					t.Errorf("%s: message %q lacks %q", name, q.Message, s)
				}
			}
		}
		// bob, 2,500 points: ¥100 allows ¥50 = 5,000, the balance 2,000 in whole steps.
		check("ok", ask("bob", 10000), "OK", 2000, 2000, "2000 points", "¥20.00")
		// ¥20: 50% = ¥10 = exactly one step.
		check("ok at the edge", ask("bob", 2000), "OK", 1000, 1000)
		// ¥19.98: 50% = ¥9.99, less than one step's ¥10.
		check("order too small", ask("bob", 1998), "ORDER_TOO_SMALL", 0, 0, "50%", "¥9.99", "¥19.98", "¥10.00")
		// alice, 800 points: under the 1,000 minimum, whatever the order.
		check("below minimum", ask("alice", 100000), "BALANCE_BELOW_MINIMUM", 0, 0, "800", "1000")

		// No minimum: alice's 800 points meet it but are less than one 1,000-point step.
		rules := a.pointsRules()
		noMinimum := clone(rules)
		section(noMinimum, "spending")["deductionMinBalance"] = 0
		if _, ue := a.updatePointsRules(noMinimum); len(ue) > 0 {
			t.Fatal(ue)
		}
		check("below one step", ask("alice", 100000), "BALANCE_BELOW_STEP", 0, 0, "800", "1000")
		// Steps of 500 points (¥5): alice may use 500 of a ¥100 order.
		section(noMinimum, "spending")["deductionStep"] = 500
		if _, ue := a.updatePointsRules(noMinimum); len(ue) > 0 {
			t.Fatal(ue)
		}
		check("smaller steps", ask("alice", 100000), "OK", 500, 500)
		off := clone(rules)
		section(off, "spending")["deductionMaxPercent"] = 0
		if _, ue := a.updatePointsRules(off); len(ue) > 0 {
			t.Fatal(ue)
		}
		check("disabled", ask("bob", 100000), "DEDUCTION_DISABLED", 0, 0)
	})
}

package graph_test

import (
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const settleMutation = `mutation($p: String, $r: Boolean!) { settleScores(input: {period: $p, resettle: $r}) {
	settlement { period status run resettle members tierChanges } userErrors { field code message } } }`

type settleRun struct {
	Period, Status string
	Run, Members   int
	TierChanges    int
	Resettle       bool
}

func (a *api) settleRun(period string, resettle bool) (*settleRun, []userError) {
	a.t.Helper()
	var out struct {
		SettleScores struct {
			Settlement *settleRun
			UserErrors []userError
		}
	}
	vars := map[string]any{"p": nil, "r": resettle}
	if period != "" {
		vars["p"] = period
	}
	a.must(a.token(auth.RoleAdmin, "ops"), settleMutation, vars, &out)
	return out.SettleScores.Settlement, out.SettleScores.UserErrors
}

// TestSettleNewcomersAndResettle: settleScores on an empty programme, again after members
// joined (exactly them), again with nobody new; an ADMIN's audited resettle after a rule
// change; a resettle of another period refused; no resettle for other roles.
func TestSettleNewcomersAndResettle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db) // 2026-11-22: the latest period is 2026-11
		want := func(st *settleRun, ue []userError, run, members, changes int, resettle bool) {
			t.Helper()
			if len(ue) > 0 || st == nil || st.Status != "DONE" || st.Period != "2026-11" || st.Run != run ||
				st.Members != members || st.TierChanges != changes || st.Resettle != resettle {
				t.Fatalf("settlement %+v %+v, want run %d members %d tierChanges %d resettle %v", st, ue, run, members, changes, resettle)
			}
		}
		st, ue := a.settleRun("", false)
		want(st, ue, 1, 0, 0, false)

		// alice: ¥3,000 in October on one day = 3,000 + 5 = 3,005, Silver (from 2,500);
		// bob: nothing, Registered.
		a.register("alice", nil)
		a.register("bob", nil)
		a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("phone", "PHONES", 300000)), "2026-10-15T04:00:00Z"))
		st, ue = a.settleRun("2026-11", false)
		want(st, ue, 2, 2, 1, false)
		var v memberScoreView
		alice := a.token(auth.RoleMember, "alice")
		a.must(alice, memberScoreQuery, nil, &v)
		if v.Viewer.Tier.Key != "SILVER" || v.Viewer.Score.Settled != 3005 {
			t.Fatalf("alice after the second run: %s %d", v.Viewer.Tier.Key, v.Viewer.Score.Settled)
		}
		st, ue = a.settleRun("", false)
		want(st, ue, 3, 0, 0, false)

		// Two points a yuan: alice 6,000 + 5 = 6,005, Gold (from 4,500) once resettled.
		admin := a.token(auth.RoleAdmin, "ops")
		var sr struct {
			UpdateScoreRules struct{ UserErrors []userError }
		}
		a.must(admin, `mutation { updateScoreRules(input: {mode: ROLLING, windowMonths: 12,
			weights: {spendYuan: 2, order: 0, purchaseDay: 5, loginDay: 1, review: 2, photoReview: 3, answer: 1, share: 1, realName: 50, boundAccount: 20, boundAccountMax: 2},
			coefficient: {ordinaryPercent: 100, riskBelow: 40, riskPercent: 80, bands: []}}) { userErrors { code } } }`, nil, &sr)
		if len(sr.UpdateScoreRules.UserErrors) > 0 {
			t.Fatalf("updateScoreRules: %+v", sr.UpdateScoreRules.UserErrors)
		}
		st, ue = a.settleRun("", true)
		want(st, ue, 4, 2, 1, true)
		a.must(alice, memberScoreQuery, nil, &v)
		h := v.Viewer.TierHistory
		if v.Viewer.Tier.Key != "GOLD" || v.Viewer.Score.Settled != 6005 || h.TotalCount != 2 {
			t.Fatalf("alice after the resettle: %s %d, history %+v", v.Viewer.Tier.Key, v.Viewer.Score.Settled, h)
		}
		var latest string
		for _, e := range h.Edges {
			if e.Node.To.Key == "GOLD" {
				latest = e.Node.Reason
			}
		}
		if !strings.HasPrefix(latest, "Resettle: ") {
			t.Fatalf("the resettle's change says %q", latest)
		}
		var audit struct {
			AuditEntries struct {
				Edges []struct {
					Node struct{ Actor, Action, Before, After string }
				}
			}
		}
		a.must(admin, `{ auditEntries(first: 10) { edges { node { actor action before after } } } }`, nil, &audit)
		if e := audit.AuditEntries.Edges; len(e) != 2 || e[0].Node.Action != "resettle" || e[0].Node.Actor != "ADMIN:ops" ||
			!strings.Contains(e[0].Node.After, `"run":4`) {
			t.Fatalf("audit = %+v", audit)
		}

		// Only the latest period can be resettled.
		st, ue = a.settleRun("2026-10", true)
		if st != nil || len(ue) != 1 || ue[0].Code != "FAILED_PRECONDITION" || strings.Join(ue[0].Field, ".") != "input.period" {
			t.Fatalf("resettle of 2026-10: %+v %+v", st, ue)
		}

		const F = "FORBIDDEN"
		a.checkRoles([]string{`mutation { settleScores(input: {resettle: true}) { userErrors { code } } }`}, map[auth.Role][]string{
			auth.RoleService: {F}, auth.RoleMember: {F}, auth.RoleStore: {F}, auth.RolePartner: {F},
		})
		a.must(admin, `{ auditEntries(first: 10) { edges { node { action } } } }`, nil, &audit)
		if len(audit.AuditEntries.Edges) != 2 {
			t.Fatalf("%d audit entries after the refused resettles", len(audit.AuditEntries.Edges))
		}
	})
}

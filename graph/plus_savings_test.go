package graph_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/auditentry"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const savingsQuery = `query($m: String!) { member(externalId: $m) { plus { status
	savings { termCents wouldHaveSavedCents breakdown { rule cents wouldHaveSavedCents } } } } }`

type savingsLine struct {
	Rule                string
	Cents               int
	WouldHaveSavedCents int
}

type savingsView struct {
	TermCents           int
	WouldHaveSavedCents int
	Breakdown           []savingsLine
}

func (a *api) savings(token, member string) (string, savingsView) {
	a.t.Helper()
	var out struct {
		Member struct {
			Plus struct {
				Status  string
				Savings savingsView
			}
		}
	}
	a.must(token, savingsQuery, map[string]any{"m": member}, &out)
	return out.Member.Plus.Status, out.Member.Plus.Savings
}

// TestPlusSavingsOverGraphQL: Member.plus.savings for a member who bought PLUS today (an
// order of this morning, before the purchase, is not the term's) and for a non-member, who
// sees what PLUS would have saved. Worked by hand from the preset's rules (docs/domain.md §5):
// bonus points at 100 = ¥1, 5% of spend, 10% of APPAREL, ¥10 per coupon, ¥10 per pickup.
func TestPlusSavingsOverGraphQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("pia", nil)
		a.register("nia", nil)
		// 22 November 2026, 10:00 in Shanghai: ¥500 of apparel, 50 points, not PLUS yet.
		a.record(at(orderEvent("pre", "pia", "PRE", "WEB", ln("coat", "APPAREL", 50000)), a.clock.Now().Add(-6*time.Hour).Format(time.RFC3339)))
		a.record(at(orderEvent("n1", "nia", "N-1", "WEB", ln("book", "BOOKS", 100000)), a.now()))
		if p := a.purchasePlus("pia", 14900, "buy-pia"); p.Term == nil {
			t.Fatalf("purchase: %+v", p.UserErrors)
		}
		a.clock.Advance(time.Hour)
		// In the term: ¥300 of apparel and ¥200 of food, 30 + 20 points and 450 from PLUS.
		a.record(at(orderEvent("post", "pia", "POST", "WEB", ln("shirt", "APPAREL", 30000), ln("rice", "FOOD", 20000)), a.now()))
		for _, k := range []string{"c1", "c2"} {
			if c := a.claimBenefit("pia", "PLUS_MONTHLY_COUPON", k); c.Claim == nil {
				t.Fatalf("coupon: %+v", c.UserErrors)
			}
		}

		status, got := a.savings(a.token(auth.RoleMember, "pia"), "pia")
		// This term: 450 points = ¥4.50; 5% of ¥500 = ¥25; 10% of ¥300 = ¥30; 2 coupons = ¥20;
		// no pickup. ¥79.50.
		// Would have saved this year: 9 × (50 + 50) = 900 points = ¥9; 5% of ¥1,000 = ¥50;
		// 10% of ¥800 = ¥80; a coupon for each of the 2 orders = ¥20. ¥159.
		want := savingsView{TermCents: 7950, WouldHaveSavedCents: 15900, Breakdown: []savingsLine{
			{"BONUS_POINTS", 450, 900}, {"EXTRA_5_PERCENT", 2500, 5000}, {"APPAREL_10_PERCENT", 3000, 8000},
			{"COUPONS", 2000, 2000}, {"RETURN_PICKUPS", 0, 0}}}
		if status != "ACTIVE" || !reflect.DeepEqual(got, want) {
			t.Errorf("pia: %s %+v\nwant ACTIVE %+v", status, got, want)
		}

		// A non-member: 100 points would have been 900 more = ¥9; 5% of ¥1,000 = ¥50; one coupon
		// = ¥10. ¥69, and nothing this term.
		status, got = a.savings(a.token(auth.RoleMember, "nia"), "nia")
		want = savingsView{TermCents: 0, WouldHaveSavedCents: 6900, Breakdown: []savingsLine{
			{"BONUS_POINTS", 0, 900}, {"EXTRA_5_PERCENT", 0, 5000}, {"APPAREL_10_PERCENT", 0, 0},
			{"COUPONS", 0, 1000}, {"RETURN_PICKUPS", 0, 0}}}
		if status != "NONE" || !reflect.DeepEqual(got, want) {
			t.Errorf("nia: %s %+v\nwant NONE %+v", status, got, want)
		}

		// A MEMBER sees only its own; STORE and PARTNER see nothing of PLUS.
		for _, tok := range []string{a.token(auth.RoleMember, "nia"), a.token(auth.RoleStore, "store-1"), a.token(auth.RolePartner, "videovip")} {
			r := a.do(tok, savingsQuery, map[string]any{"m": "pia"})
			if string(r.Data["member"]) != "null" && len(r.Errors) == 0 {
				t.Errorf("another viewer read pia's savings: %s", r.Data["member"])
			}
		}
	})
}

// TestPlusSavingsStatements: savings adds to Member.plus one statement for every savings fact
// (the programme comes from the catalogue every query shares) — also
// for a term that began inside a month, whose first days are read from that month's events
// within the same statement. With the member and its terms, a request for Member.plus with
// savings is 3 statements once the programme's catalogue is cached.
func TestPlusSavingsStatements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var statements atomic.Int64
		drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(context.Context, ...any) { statements.Add(1) })
		counting := ent.NewClient(ent.Driver(drv))
		cdb := *db
		cdb.Client = counting
		a := newAPI(t, db, func(c *graph.ServerConfig) {
			c.DB = &cdb
			c.Programs = program.NewService(counting)
			c.Plus = plus.NewService(counting, c.Ledger)
		})
		a.register("sam", nil)
		a.purchasePlus("sam", 14900, "sam-1")
		a.purchasePlus("sam", 14900, "sam-2")
		a.record(at(orderEvent("o1", "sam", "O-1", "WEB", ln("coat", "APPAREL", 50000)), a.now()))
		a.claimBenefit("sam", "PLUS_MONTHLY_COUPON", "c1")
		a.register("nobody-plus", nil)
		without := `query($m: String!) { member(externalId: $m) { plus { status currentTerm { id } end daysLeft } } }`
		count := func(q, who string) int64 {
			statements.Store(0)
			if r := a.do(a.token(auth.RoleAdmin, "ops"), q, map[string]any{"m": who}); len(r.Errors) > 0 {
				t.Fatalf("%+v", r.Errors)
			}
			return statements.Load()
		}
		count(`{ program { key } }`, "") // queries share the programme's cached catalogue (catalogue.go): warm it
		for _, who := range []string{"sam", "nobody-plus"} {
			base, with := count(without, who), count(savingsQuery, who)
			if with != base+1 {
				t.Errorf("Member.plus of %s: %d statements without savings, %d with; want savings to add one (its facts; the programme is the cached one)", who, base, with)
			}
		}
	})
}

const savingsRulesFields = `benefits savings { key kind permille category benefitKey centsEach wouldUseOn }`

type savingsRulesView struct {
	Benefits []string
	Savings  []map[string]any
}

// TestUpdatePlusSavingsRules: the savings rules are programme data an ADMIN replaces, every
// value checked with the field named, nothing changed when refused, audited; the next savings
// answer applies them.
func TestUpdatePlusSavingsRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "ops")
		var prog struct {
			Program struct{ PlusSavingsRules savingsRulesView }
		}
		a.must(admin, `{ program { plusSavingsRules { `+savingsRulesFields+` } } }`, nil, &prog)
		preset := prog.Program.PlusSavingsRules
		if len(preset.Benefits) != 6 || len(preset.Savings) != 5 || preset.Savings[1]["key"] != "EXTRA_5_PERCENT" || preset.Savings[1]["permille"] != float64(50) {
			t.Fatalf("the preset's rules: %+v", preset)
		}
		update := func(in map[string]any) (*savingsRulesView, []userError) {
			var out struct {
				UpdatePlusSavingsRules struct {
					Rules      *savingsRulesView
					UserErrors []userError
				}
			}
			a.must(admin, `mutation($in: UpdatePlusSavingsRulesInput!) { updatePlusSavingsRules(input: $in) { rules { `+savingsRulesFields+` } userErrors { field message code } } }`,
				map[string]any{"in": in}, &out)
			return out.UpdatePlusSavingsRules.Rules, out.UpdatePlusSavingsRules.UserErrors
		}
		benefits := []string{"PLUS_EXTRA_5_OFF", "PLUS_MONTHLY_COUPON", "PLUS_FREE_RETURN_PICKUP"}
		_, ue := update(map[string]any{"benefits": append(slices.Clone(benefits), "NO_SUCH_BENEFIT"), "savings": []map[string]any{
			{"key": "EXTRA", "kind": "SPEND_PERMILLE", "permille": 0},
			{"key": "SHOES", "kind": "SPEND_PERMILLE", "permille": 100, "category": "SPACESHIPS"},
			{"key": "PICKUPS", "kind": "PER_USE", "benefitKey": "PLUS_HEALTH_VIP", "centsEach": 1000, "wouldUseOn": "RETURN"},
			{"key": "lower", "kind": "LUCK"},
		}})
		var got []string
		for _, e := range ue {
			got = append(got, e.Code+" "+strings.Join(e.Field, "."))
		}
		want := []string{"INVALID_ARGUMENT input.savings.0.permille", "INVALID_ARGUMENT input.savings.1.category",
			"INVALID_ARGUMENT input.savings.2.benefitKey", "INVALID_ARGUMENT input.savings.3.key", "INVALID_ARGUMENT input.savings.3.kind",
			"NOT_FOUND input.benefits.3"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("refusals %v\nwant %v", got, want)
		}
		a.must(admin, `{ program { plusSavingsRules { `+savingsRulesFields+` } } }`, nil, &prog)
		if !reflect.DeepEqual(prog.Program.PlusSavingsRules, preset) {
			t.Errorf("a refused update changed the rules: %+v", prog.Program.PlusSavingsRules)
		}

		// 8% of all spend and ¥15 a return pickup, nothing else.
		rules, ue := update(map[string]any{"benefits": benefits, "savings": []map[string]any{
			{"key": "EXTRA_8_PERCENT", "kind": "SPEND_PERMILLE", "permille": 80},
			{"key": "RETURN_PICKUPS", "kind": "PER_USE", "benefitKey": "PLUS_FREE_RETURN_PICKUP", "centsEach": 1500, "wouldUseOn": "RETURN"},
		}})
		if len(ue) > 0 || rules == nil || !reflect.DeepEqual(rules.Benefits, benefits) || len(rules.Savings) != 2 {
			t.Fatalf("update: %+v %+v", rules, ue)
		}
		a.register("uma", nil)
		a.record(at(orderEvent("u1", "uma", "U-1", "WEB", ln("coat", "APPAREL", 50000), ln("hat", "APPAREL", 10000)), a.now()))
		a.record(at(map[string]any{"idempotencyKey": "u1-back", "externalId": "uma", "kind": "ORDER_REFUNDED", "channel": "WEB",
			"orderId": "U-1", "skus": []string{"hat"}}, a.now()))
		// 8% of the ¥500 that stands = ¥40; one order with a return = ¥15.
		_, s := a.savings(admin, "uma")
		wantS := savingsView{WouldHaveSavedCents: 5500, Breakdown: []savingsLine{{"EXTRA_8_PERCENT", 0, 4000}, {"RETURN_PICKUPS", 0, 1500}}}
		if !reflect.DeepEqual(s, wantS) {
			t.Errorf("savings under the new rules %+v, want %+v", s, wantS)
		}
		// Benefits PLUS no longer holds are not listed for a member who is PLUS.
		a.purchasePlus("uma", 14900, "buy-uma")
		if got := a.memberBenefits("uma"); !reflect.DeepEqual(got, []string{"TIER:MEMBER_PRICE", "PLUS:PLUS_EXTRA_5_OFF",
			"PLUS:PLUS_MONTHLY_COUPON(0/4)", "PLUS:PLUS_FREE_RETURN_PICKUP(0/2)"}) {
			t.Errorf("uma's benefits: %v", got)
		}
		n, err := a.db.Client.AuditEntry.Query().Where(auditentry.Action("updatePlusSavingsRules")).Count(auth.SystemContext(context.Background(), 0))
		if err != nil || n != 1 {
			t.Errorf("audit entries: %d, %v", n, err)
		}
		a.checkRoles([]string{
			`mutation { updatePlusSavingsRules(input: {benefits: [], savings: []}) { userErrors { code } } }`,
			`{ program { plusSavingsRules { benefits } } }`,
		}, map[auth.Role][]string{
			auth.RoleService: {"FORBIDDEN", ""}, auth.RoleMember: {"FORBIDDEN", ""},
			auth.RoleStore: {"FORBIDDEN", "FORBIDDEN"}, auth.RolePartner: {"FORBIDDEN", "FORBIDDEN"},
		})
	})
}

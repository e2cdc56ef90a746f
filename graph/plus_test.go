package graph_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const plusTermFields = `id plan source startAt endAt plannedEndAt pricePaidCents paymentRef cancelledAt refundedAt refundCents`

type plusTerm struct {
	ID, Plan, Source        string
	StartAt, EndAt          time.Time
	PlannedEndAt            time.Time
	PricePaidCents          int
	PaymentRef              string
	CancelledAt, RefundedAt *time.Time
	RefundCents             int
}

type grantPayload struct {
	Term        *plusTerm
	PriceReason *string
	Replayed    bool
	UserErrors  []userError
}

const purchasePlusMutation = `mutation($in: PurchasePlusInput!) { purchasePlus(input: $in) { term { ` + plusTermFields + ` } priceReason replayed userErrors { field message code } } }`
const startTrialMutation = `mutation($in: StartPlusTrialInput!) { startPlusTrial(input: $in) { term { ` + plusTermFields + ` } replayed userErrors { field message code } } }`
const cancelPlusMutation = `mutation($in: CancelPlusInput!) { cancelPlus(input: $in) { term { ` + plusTermFields + ` } cancelledTerms { id startAt endAt refundCents } refundableCents refundedCents replayed userErrors { field message code } } }`

func (a *api) purchasePlus(ext string, amount int, key string) grantPayload {
	a.t.Helper()
	var out struct{ PurchasePlus grantPayload }
	a.must(a.token(auth.RoleService, "shop"), purchasePlusMutation, map[string]any{"in": map[string]any{
		"externalId": ext, "plan": "ANNUAL", "amountCents": amount, "paymentRef": "pay-" + key, "idempotencyKey": key}}, &out)
	return out.PurchasePlus
}

func (a *api) startTrial(token, ext, key string) grantPayload {
	a.t.Helper()
	var out struct{ StartPlusTrial grantPayload }
	a.must(token, startTrialMutation, map[string]any{"in": map[string]any{"externalId": ext, "idempotencyKey": key}}, &out)
	return out.StartPlusTrial
}

type cancelPayload struct {
	Term            *plusTerm
	CancelledTerms  []plusTerm
	RefundableCents *int
	RefundedCents   *int
	Replayed        bool
	UserErrors      []userError
}

func (a *api) cancelPlus(ext string, refund bool, key string) cancelPayload {
	a.t.Helper()
	var out struct{ CancelPlus cancelPayload }
	a.must(a.token(auth.RoleAdmin, "ops"), cancelPlusMutation, map[string]any{"in": map[string]any{
		"externalId": ext, "refund": refund, "reason": "customer asked", "idempotencyKey": key}}, &out)
	return out.CancelPlus
}

// setSettled gives a member a settled score, as a settlement would have.
func (a *api) setSettled(ext string, score int64) {
	a.t.Helper()
	ctx := auth.SystemContext(context.Background(), 0)
	m, err := a.db.Client.Member.Query().Where(member.ExternalID(ext)).Only(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	n, err := a.db.Client.MemberScore.Update().Where(memberscore.MemberID(m.ID)).SetSettled(score).Save(ctx)
	if err == nil && n == 0 {
		err = a.db.Client.MemberScore.Create().SetProgramID(m.ProgramID).SetMemberID(m.ID).SetSettled(score).Exec(ctx)
	}
	if err != nil {
		a.t.Fatal(err)
	}
}

func (a *api) plusTermCount(ext string) int {
	a.t.Helper()
	n, err := a.db.Client.PlusTerm.Query().Where(plusterm.HasMemberWith(member.ExternalID(ext))).Count(auth.SystemContext(context.Background(), 0))
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

type memberPlus struct {
	Status      string
	CurrentTerm *plusTerm
	End         *time.Time
	DaysLeft    int
	History     struct {
		TotalCount int
		Edges      []struct{ Node plusTerm }
	}
}

func (a *api) memberPlus(ext string) memberPlus {
	a.t.Helper()
	var out struct{ Member struct{ Plus memberPlus } }
	a.must(a.token(auth.RoleAdmin, "ops"), `query($e: String!) { member(externalId: $e) { plus { status currentTerm { `+plusTermFields+` } end daysLeft history(first: 20) { totalCount edges { node { `+plusTermFields+` } } } } } }`,
		map[string]any{"e": ext}, &out)
	return out.Member.Plus
}

func wantNoErrors(t *testing.T, what string, ue []userError) {
	t.Helper()
	if len(ue) > 0 {
		t.Fatalf("%s: %+v", what, ue)
	}
}

func wantCode(t *testing.T, what string, ue []userError, code, field string) {
	t.Helper()
	if len(ue) != 1 || ue[0].Code != code || strings.Join(ue[0].Field, ".") != field {
		t.Fatalf("%s: got %+v, want one %s at %s", what, ue, code, field)
	}
}

// TestPlusPrices: the price is the platform's, from the settled score (docs/domain.md §5
// "Prices": ¥149, ¥99 from 4,500); a purchase reporting the other price is refused with the
// expected one and writes no term.
func TestPlusPrices(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("low", nil)
		a.register("high", nil)
		a.setSettled("low", 4499)
		a.setSettled("high", 4612)
		admin := a.token(auth.RoleAdmin, "ops")
		type quote struct {
			SettledScore int
			Plans        []struct {
				Plan       struct{ Key string }
				PriceCents int
				Reason     string
			}
			TrialOpen  bool
			Status     string
			CurrentEnd *time.Time
		}
		q := func(ext string) quote {
			var out struct{ PlusQuote quote }
			a.must(admin, `query($e: String!) { plusQuote(externalId: $e) { settledScore plans { plan { key } priceCents reason } trialOpen status currentEnd } }`, map[string]any{"e": ext}, &out)
			return out.PlusQuote
		}
		low, high := q("low"), q("high")
		if len(low.Plans) != 1 || low.Plans[0].PriceCents != 14900 || low.Plans[0].Reason != "list price, settled score 4,499 < 4,500" || !low.TrialOpen || low.Status != "NONE" || low.CurrentEnd != nil {
			t.Errorf("quote at 4,499: %+v, want ANNUAL at 14900, trial open, NONE", low)
		}
		if len(high.Plans) != 1 || high.Plans[0].PriceCents != 9900 || high.Plans[0].Reason != "exclusive price, settled score 4,612 ≥ 4,500" {
			t.Errorf("quote at 4,612: %+v, want ANNUAL at 9900", high)
		}
		a.setSettled("high", 4500)
		if got := q("high"); got.Plans[0].PriceCents != 9900 {
			t.Errorf("quote at 4,500: %d, want 9900", got.Plans[0].PriceCents)
		}

		res := a.purchasePlus("low", 9900, "low-1")
		wantCode(t, "¥99 at 4,499", res.UserErrors, "INVALID_ARGUMENT", "input.amountCents")
		if !strings.Contains(res.UserErrors[0].Message, "14900 cents (¥149") {
			t.Errorf("the refusal names the expected price: %q", res.UserErrors[0].Message)
		}
		if n := a.plusTermCount("low"); n != 0 || a.memberPlus("low").Status != "NONE" {
			t.Errorf("a refused purchase wrote %d terms", n)
		}
		res = a.purchasePlus("high", 9900, "high-1")
		wantNoErrors(t, "¥99 at 4,500", res.UserErrors)
		if res.Term.PricePaidCents != 9900 || res.Term.Source != "PURCHASE" || res.Term.PaymentRef != "pay-high-1" || *res.PriceReason != "exclusive price, settled score 4,500 ≥ 4,500" {
			t.Errorf("term %+v, reason %v", res.Term, res.PriceReason)
		}
		res = a.purchasePlus("low", 14900, "low-2")
		wantNoErrors(t, "¥149 at 4,499", res.UserErrors)
	})
}

// TestPlusTrialOncePerMember: the trial is once per member ever, and not for a member who
// held PLUS by another way in.
func TestPlusTrialOncePerMember(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("tess", nil)
		a.register("bob", nil)
		tess := a.token(auth.RoleMember, "tess")
		res := a.startTrial(tess, "tess", "trial-1")
		wantNoErrors(t, "first trial", res.UserErrors)
		// 30 days in Asia/Shanghai: 2026-11-22 16:00 local + 30 days = 2026-12-22 16:00 local.
		if want := time.Date(2026, 12, 22, 8, 0, 0, 0, time.UTC); !res.Term.EndAt.Equal(want) || res.Term.Plan != "TRIAL" || res.Term.PricePaidCents != 0 {
			t.Errorf("trial %+v, want TRIAL ending %v", res.Term, want)
		}
		a.clock.Advance(40 * 24 * time.Hour)
		wantCode(t, "second trial", a.startTrial(tess, "tess", "trial-2").UserErrors, "FAILED_PRECONDITION", "input.externalId")

		wantNoErrors(t, "purchase", a.purchasePlus("bob", 14900, "bob-1").UserErrors)
		wantCode(t, "trial after a purchase", a.startTrial(a.token(auth.RoleService, "shop"), "bob", "bob-trial").UserErrors, "FAILED_PRECONDITION", "input.externalId")
		if n := a.plusTermCount("bob"); n != 1 {
			t.Errorf("bob holds %d terms, want 1", n)
		}
		// A MEMBER starts only its own trial: another member is unknown to it.
		wantCode(t, "tess for bob", a.startTrial(tess, "bob", "tess-for-bob").UserErrors, "NOT_FOUND", "input.externalId")
	})
}

// TestPlusStacking: a renewal starts at the current end; "annual" is the same local date-time
// a year later, 29 February → 28 February; a purchase during the trial starts at its end.
func TestPlusStacking(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("ann", nil)
		a.register("tia", nil)
		// 29 February 2028, 10:00 in Asia/Shanghai.
		a.clock.Set(time.Date(2028, 2, 29, 2, 0, 0, 0, time.UTC))
		first := a.purchasePlus("ann", 14900, "ann-1")
		wantNoErrors(t, "first", first.UserErrors)
		a.clock.Advance(time.Hour)
		second := a.purchasePlus("ann", 14900, "ann-2")
		wantNoErrors(t, "second", second.UserErrors)
		start := time.Date(2028, 2, 29, 2, 0, 0, 0, time.UTC)
		oneYear := time.Date(2029, 2, 28, 2, 0, 0, 0, time.UTC)
		twoYears := time.Date(2030, 2, 28, 2, 0, 0, 0, time.UTC)
		if !first.Term.StartAt.Equal(start) || !first.Term.EndAt.Equal(oneYear) {
			t.Errorf("first term %v – %v, want %v – %v", first.Term.StartAt, first.Term.EndAt, start, oneYear)
		}
		if !second.Term.StartAt.Equal(oneYear) || !second.Term.EndAt.Equal(twoYears) {
			t.Errorf("second term %v – %v, want %v – %v", second.Term.StartAt, second.Term.EndAt, oneYear, twoYears)
		}
		mp := a.memberPlus("ann")
		if mp.Status != "ACTIVE" || mp.CurrentTerm.ID != first.Term.ID || !mp.End.Equal(twoYears) || mp.History.TotalCount != 2 ||
			mp.History.Edges[0].Node.ID != second.Term.ID || mp.History.Edges[1].Node.ID != first.Term.ID {
			t.Errorf("Member.plus %+v", mp)
		}
		// 2028-02-29 03:00Z to 2030-02-28 02:00Z is 730 days less an hour: 730 started days.
		if mp.DaysLeft != 730 {
			t.Errorf("daysLeft %d, want 730", mp.DaysLeft)
		}

		trial := a.startTrial(a.token(auth.RoleMember, "tia"), "tia", "tia-trial")
		wantNoErrors(t, "trial", trial.UserErrors)
		a.clock.Advance(10 * 24 * time.Hour)
		bought := a.purchasePlus("tia", 14900, "tia-1")
		wantNoErrors(t, "purchase in trial", bought.UserErrors)
		if !bought.Term.StartAt.Equal(trial.Term.EndAt) {
			t.Errorf("purchase during the trial starts %v, want the trial's end %v", bought.Term.StartAt, trial.Term.EndAt)
		}
	})
}

// TestPlusBonusStopsAtTheEndInstant: an order one second before a term's end earns 10×,
// one second after 1×, with no job run in between. A ¥1,234 line earns 123 (10% of ¥1,230,
// docs/domain.md §3) and a PLUS member 9 × 123 = 1,107 more.
func TestPlusBonusStopsAtTheEndInstant(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("eve", nil)
		term := a.purchasePlus("eve", 14900, "eve-1").Term
		a.clock.Set(term.EndAt.Add(-time.Second))
		before := a.record(at(orderEvent("o-before", "eve", "O-B", "WEB", ln("s1", "PHONES", 123400)), a.now()))
		a.clock.Set(term.EndAt.Add(time.Second))
		after := a.record(at(orderEvent("o-after", "eve", "O-A", "WEB", ln("s1", "PHONES", 123400)), a.now()))
		if before[0].Status != "ACCEPTED" || before[0].Points != 123+1107 {
			t.Errorf("one second before the end: %+v, want 1,230 points", before[0])
		}
		if after[0].Status != "ACCEPTED" || after[0].Points != 123 {
			t.Errorf("one second after the end: %+v, want 123 points", after[0])
		}
		if a.memberPlus("eve").Status != "NONE" {
			t.Error("status after the end is not NONE")
		}
	})
}

// TestPlusIdempotency: a replay returns the first result, another body under the key is
// CONFLICT, and a refusal is kept under its key too.
func TestPlusIdempotency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("ivy", nil)
		first := a.purchasePlus("ivy", 14900, "ivy-1")
		a.clock.Advance(time.Minute)
		again := a.purchasePlus("ivy", 14900, "ivy-1")
		if !again.Replayed || again.Term.ID != first.Term.ID || first.Replayed {
			t.Errorf("replay: %+v after %+v", again, first)
		}
		wantCode(t, "another amount under the key", a.purchasePlus("ivy", 9900, "ivy-1").UserErrors, "CONFLICT", "input.idempotencyKey")
		wantCode(t, "a trial under a purchase's key", a.startTrial(a.token(auth.RoleService, "shop"), "ivy", "ivy-1").UserErrors, "CONFLICT", "input.idempotencyKey")
		wantCode(t, "refused", a.purchasePlus("ivy", 100, "ivy-2").UserErrors, "INVALID_ARGUMENT", "input.amountCents")
		wantCode(t, "refusal replayed", a.purchasePlus("ivy", 100, "ivy-2").UserErrors, "INVALID_ARGUMENT", "input.amountCents")
		if n := a.plusTermCount("ivy"); n != 1 {
			t.Errorf("%d terms, want 1", n)
		}
		c1 := a.cancelPlus("ivy", true, "ivy-cancel")
		c2 := a.cancelPlus("ivy", true, "ivy-cancel")
		if !c2.Replayed || c2.Term == nil || c2.Term.ID != c1.Term.ID || *c2.RefundableCents != *c1.RefundableCents {
			t.Errorf("cancel replay %+v after %+v", c2, c1)
		}
		wantCode(t, "cancel, other body", a.cancelPlus("ivy", false, "ivy-cancel").UserErrors, "CONFLICT", "input.idempotencyKey")
		wantCode(t, "nothing to cancel", a.cancelPlus("ivy", false, "ivy-cancel-2").UserErrors, "FAILED_PRECONDITION", "input.externalId")
		// One term started and one ended, however often they were replayed.
		_, text := scrape(t, a.srv.URL, "")
		got := metricLines(text, "membergraph_plus_terms_started_total", "membergraph_plus_terms_ended_total")
		want := `membergraph_plus_terms_ended_total{why="REFUNDED"} 1` + "\n" + `membergraph_plus_terms_started_total{plan="ANNUAL",source="PURCHASE"} 1`
		if got != want {
			t.Errorf("metrics:\n%s\nwant\n%s", got, want)
		}
	})
}

// TestPlusRefundAmounts works three refunds by hand from docs/domain.md §5 "Cancel and
// refund": paid − bonus points at 100 = ¥1 − face value of PLUS coupons used, floored at 0.
// Lines of ¥990 earn 99 points (10% of ¥990) and a PLUS member 9 × 99 = 891 bonus, below
// every cap.
func TestPlusRefundAmounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		for _, m := range []string{"r1", "r2", "r3"} {
			a.register(m, nil)
		}
		a.setSettled("r3", 4500)
		// PLUS coupons used, as claimBenefit records them: source PLUS with the face value.
		coupons := func(ext string, n int, face int64) {
			ctx := auth.SystemContext(context.Background(), 0)
			m := a.db.Client.Member.Query().Where(member.ExternalID(ext)).OnlyX(ctx)
			b := a.db.Client.Benefit.Query().Where(benefit.Key("PLUS_MONTHLY_COUPON")).FirstX(ctx)
			for i := range n {
				a.db.Client.BenefitClaim.Create().SetProgramID(m.ProgramID).SetMemberID(m.ID).SetBenefitID(b.ID).
					SetIdempotencyKey(ext + "-coupon-" + string(rune('a'+i))).SetPeriod("").SetSource(benefitclaim.SourcePLUS).
					SetFaceValueCents(face).SetClaimedAt(a.clock.Now()).ExecX(ctx)
			}
		}
		// r1: ¥149 paid, nothing received → ¥149 back.
		a.purchasePlus("r1", 14900, "r1-buy")
		a.clock.Advance(time.Hour)
		c := a.cancelPlus("r1", true, "r1-cancel")
		wantNoErrors(t, "r1", c.UserErrors)
		if *c.RefundableCents != 14900 || *c.RefundedCents != 14900 || c.Term.RefundCents != 14900 || c.Term.RefundedAt == nil {
			t.Errorf("r1: %+v, want 14900 refunded", c)
		}
		// r2: ¥149 paid; two orders earn 891 bonus each, one is refunded (its bonus taken
		// back), and one ¥10 coupon used: 14900 − 891 − 1000 = 13009. No refund asked.
		a.purchasePlus("r2", 14900, "r2-buy")
		a.record(at(orderEvent("r2-o1", "r2", "R2-1", "WEB", ln("s1", "FOOD", 99000)), a.now()),
			at(orderEvent("r2-o2", "r2", "R2-2", "WEB", ln("s1", "FOOD", 99000)), a.now()))
		a.clock.Advance(time.Minute)
		a.record(map[string]any{"idempotencyKey": "r2-refund", "externalId": "r2", "kind": "ORDER_REFUNDED", "channel": "WEB",
			"orderId": "R2-2", "skus": []string{"s1"}, "occurredAt": a.now()})
		coupons("r2", 1, 1000)
		a.clock.Advance(time.Minute)
		c = a.cancelPlus("r2", false, "r2-cancel")
		wantNoErrors(t, "r2", c.UserErrors)
		if *c.RefundableCents != 13009 || *c.RefundedCents != 0 || c.Term.RefundedAt != nil || c.Term.CancelledAt == nil {
			t.Errorf("r2: %+v, want 13009 refundable, nothing refunded", c)
		}
		// r3: ¥99 paid (score 4,500); three orders earn 3 × 891 = 2673 bonus and eight ¥10
		// coupons were used: 9900 − 2673 − 8000 < 0 → 0. A second term stacked after it has
		// given nothing yet: its ¥99 comes back whole, 9900 in all.
		a.purchasePlus("r3", 9900, "r3-buy")
		a.purchasePlus("r3", 9900, "r3-buy-2")
		for i, o := range []string{"R3-1", "R3-2", "R3-3"} {
			a.record(at(orderEvent("r3-o"+string(rune('1'+i)), "r3", o, "WEB", ln("s1", "FOOD", 99000)), a.now()))
		}
		coupons("r3", 8, 1000)
		a.clock.Advance(time.Minute)
		c = a.cancelPlus("r3", true, "r3-cancel")
		wantNoErrors(t, "r3", c.UserErrors)
		if *c.RefundableCents != 9900 || len(c.CancelledTerms) != 2 || c.CancelledTerms[0].RefundCents != 0 || c.CancelledTerms[1].RefundCents != 9900 {
			t.Errorf("r3: %+v, want 0 + 9900", c)
		}
		// Cancelled means over at once; the bonus points stay earned.
		if mp := a.memberPlus("r3"); mp.Status != "NONE" || mp.History.TotalCount != 2 {
			t.Errorf("after cancel: %+v", mp)
		}
		var bal struct {
			Member struct{ Points struct{ Balance int } }
		}
		a.must(a.token(auth.RoleAdmin, "ops"), `{ member(externalId: "r3") { points { balance } } }`, nil, &bal)
		if bal.Member.Points.Balance != 3*(99+891) {
			t.Errorf("r3's balance %d, want 2970", bal.Member.Points.Balance)
		}
	})
}

// TestPlusRoles: a MEMBER reads and acts only for itself; STORE and PARTNER see nothing of
// PLUS; purchases and cancels are the commerce side's and operators'.
func TestPlusRoles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("mia", nil)
		a.register("max", nil)
		a.purchasePlus("max", 14900, "max-1")
		for _, role := range []auth.Role{auth.RoleStore, auth.RolePartner} {
			tok := a.token(role, "x")
			for _, q := range []string{
				`{ plusQuote(externalId: "max") { status } }`,
				`{ program { plusPlans { key } } }`,
				`mutation { startPlusTrial(input: {externalId: "mia", idempotencyKey: "k"}) { replayed } }`,
			} {
				if r := a.do(tok, q, nil); r.code() != "FORBIDDEN" {
					t.Errorf("%s %s: %s, want FORBIDDEN", role, q, r.code())
				}
			}
		}
		mia := a.token(auth.RoleMember, "mia")
		if r := a.do(mia, `{ plusQuote(externalId: "max") { status } }`, nil); r.code() != "NOT_FOUND" {
			t.Errorf("mia quoting max: %s, want NOT_FOUND (no such member for her)", r.code())
		}
		var own struct{ PlusQuote struct{ TrialOpen bool } }
		a.must(mia, `{ plusQuote(externalId: "mia") { trialOpen } }`, nil, &own)
		if !own.PlusQuote.TrialOpen {
			t.Error("mia's own quote: trial not open")
		}
		var viewer struct {
			Viewer struct{ Plus struct{ Status string } }
		}
		a.must(mia, `{ viewer { plus { status } } }`, nil, &viewer)
		for m, in := range map[string]map[string]any{
			purchasePlusMutation: {"externalId": "mia", "plan": "ANNUAL", "amountCents": 14900, "paymentRef": "p", "idempotencyKey": "k"},
			cancelPlusMutation:   {"externalId": "mia", "refund": false, "reason": "r", "idempotencyKey": "k"},
		} {
			if r := a.do(mia, m, map[string]any{"in": in}); r.code() != "FORBIDDEN" {
				t.Errorf("MEMBER %s: %s, want FORBIDDEN", m[:30], r.code())
			}
		}
		if r := a.do(a.token(auth.RoleService, "shop"), `mutation { updatePlusPlans(input: {plans: [{key: "ANNUAL", name: "A", months: 12, priceCents: 100}]}) { userErrors { code } } }`, nil); r.code() != "FORBIDDEN" {
			t.Errorf("SERVICE updatePlusPlans: %s, want FORBIDDEN", r.code())
		}
	})
}

// TestUpdatePlusPlans: an ADMIN changes prices, the exclusive score and the trial's days;
// bad values are refused naming the field, nothing changes; the change is audited.
func TestUpdatePlusPlans(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "ops")
		const m = `mutation($p: [PlusPlanInput!]!) { updatePlusPlans(input: {plans: $p}) { plans { key priceCents exclusivePriceCents exclusiveMinScore days } userErrors { field code } } }`
		type payload struct {
			UpdatePlusPlans struct {
				Plans []struct {
					Key                                                      string
					PriceCents, ExclusivePriceCents, ExclusiveMinScore, Days int
				}
				UserErrors []userError
			}
		}
		var bad payload
		a.must(admin, m, map[string]any{"p": []map[string]any{
			{"key": "ANNUAL", "name": "Annual", "months": 12, "priceCents": 9900, "exclusivePriceCents": 9900, "exclusiveMinScore": 4500},
			{"key": "TRIAL", "name": "Trial", "trial": true, "days": 0},
		}}, &bad)
		if ue := bad.UpdatePlusPlans.UserErrors; len(ue) != 2 || strings.Join(ue[0].Field, ".") != "input.plans.0.exclusivePriceCents" || strings.Join(ue[1].Field, ".") != "input.plans.1.days" {
			t.Errorf("bad plans: %+v", ue)
		}
		var ok payload
		a.must(admin, m, map[string]any{"p": []map[string]any{
			{"key": "ANNUAL", "name": "Annual", "months": 12, "priceCents": 19900, "exclusivePriceCents": 12900, "exclusiveMinScore": 5000},
			{"key": "TRIAL", "name": "Trial", "trial": true, "days": 7},
		}}, &ok)
		wantNoErrors(t, "good plans", ok.UpdatePlusPlans.UserErrors)
		var prog struct {
			Program struct {
				PlusPlans []struct {
					Key              string
					PriceCents, Days int
				}
			}
		}
		a.must(a.token(auth.RoleMember, "x"), `{ program { plusPlans { key priceCents days } } }`, nil, &prog)
		if p := prog.Program.PlusPlans; len(p) != 2 || p[0].PriceCents != 19900 || p[1].Days != 7 {
			t.Errorf("plans after the change: %+v", p)
		}
		n, err := a.db.Client.AuditEntry.Query().Count(auth.SystemContext(context.Background(), 0))
		if err != nil || n != 1 {
			t.Errorf("audit entries: %d, %v", n, err)
		}
	})
}

// TestPlusStatementsAreBounded: plusQuote and Member.plus each take at most 3 SQL statements
// (the whole request: programme, member, terms), however many terms the member holds.
func TestPlusStatementsAreBounded(t *testing.T) {
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
			c.Members = memberpkg.NewService(counting, c.Ledger.Clock())
		})
		a.register("sam", nil)
		a.setSettled("sam", 5000)
		for i := range 5 {
			a.purchasePlus("sam", 9900, "sam-"+string(rune('a'+i)))
		}
		admin := a.token(auth.RoleAdmin, "ops")
		count := func(q string) int64 {
			statements.Store(0)
			if r := a.do(admin, q, nil); len(r.Errors) > 0 {
				t.Fatalf("%s: %+v", q, r.Errors)
			}
			return statements.Load()
		}
		count(`{ program { key } }`) // queries share the programme's cached catalogue (catalogue.go): warm it
		quote := count(`{ plusQuote(externalId: "sam") { settledScore plans { plan { key name } priceCents reason startAt endAt } trial { key days } trialOpen status currentEnd } }`)
		if quote < 2 || quote > 3 {
			t.Errorf("plusQuote: %d statements, want ≤ 3 (programme, member with score, terms)", quote)
		}
		// Member.plus is counted beyond the lookup of the member it hangs off.
		member := count(`{ member(externalId: "sam") { id } }`)
		withPlus := count(`{ member(externalId: "sam") { id plus { status currentTerm { id plan } end daysLeft history(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id startAt } } } savings { termCents wouldHaveSavedCents breakdown { rule cents } } } } }`)
		if member < 1 || withPlus-member < 1 || withPlus-member > 3 {
			t.Errorf("Member.plus: %d statements beyond the member's %d, want 1–3", withPlus-member, member)
		}
		t.Logf("plusQuote %d statements; member %d, with plus and savings %d", quote, member, withPlus)
	})
}

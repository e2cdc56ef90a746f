package score

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/settlementpartition"
	"github.com/membergraph/membergraph/ent/tierchange"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/usererr"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// world is a programme with members, events and a settlement service on one database.
type world struct {
	t      *testing.T
	db     *store.DB
	clk    *clock.Manual
	pid    int
	svc    context.Context // a SERVICE viewer
	events *events.Service
	ledger *points.Ledger
	score  *Service
	n      int
}

func newWorld(t *testing.T, db *store.DB, mutate func(*program.Definition), members ...string) *world {
	t.Helper()
	ctx := context.Background()
	def := program.JDPreset()
	if mutate != nil {
		mutate(&def)
	}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, def); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	w := &world{t: t, db: db, pid: pid, clk: clock.NewManual(time.Date(2025, 1, 1, 0, 0, 0, 0, shanghai))}
	w.svc = auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "test", ProgramID: pid})
	w.ledger = points.NewLedger(db.Client, db.Dialect, w.clk, nil)
	w.events = events.NewService(db.Client, w.ledger, 0)
	w.score = NewService(db.Client, w.clk, w.ledger, SettleConfig{PartitionSize: 2, ChunkSize: 2})
	for _, m := range members {
		if _, err := memberpkg.NewService(db.Client, w.clk).Register(w.svc, memberpkg.Registration{ExternalID: m, Channel: member.RegistrationChannelAPP}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// at moves the clock to a Shanghai wall time.
func (w *world) at(y int, mo time.Month, d int) time.Time {
	t := time.Date(y, mo, d, 12, 0, 0, 0, shanghai)
	if t.After(w.clk.Now()) {
		w.clk.Set(t)
	}
	return t
}

func (w *world) send(ext string, kind payload.Kind, at time.Time, body payload.Body) {
	w.t.Helper()
	w.n++
	res, err := w.events.Record(w.svc, []events.Input{{IdempotencyKey: fmt.Sprintf("ev-%d", w.n), ExternalID: ext, Kind: kind,
		OccurredAt: at, Channel: "WEB", Body: body}})
	if err != nil || res[0].Status != events.Accepted {
		w.t.Fatalf("%s %s: %v %+v", ext, kind, err, res)
	}
}

func (w *world) order(ext, id string, at time.Time, lines ...payload.Line) {
	w.send(ext, payload.OrderCompleted, at, payload.Body{OrderID: id, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: lines})
}

func line(sku string, yuan int64) payload.Line {
	return payload.Line{SKU: sku, Category: "PHONES", PaidCents: yuan * 100, ProductType: "PHYSICAL"}
}

func (w *world) settle(period formula.Month) *ent.Settlement {
	w.t.Helper()
	st, err := w.score.Settle(context.Background(), w.pid, period)
	if err != nil {
		w.t.Fatalf("settle %s: %v", period, err)
	}
	if _, err := w.score.DeliverGifts(context.Background(), w.pid); err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *world) member(ext string) *ent.Member {
	w.t.Helper()
	m, err := w.db.Client.Member.Query().Where(member.ExternalID(ext)).WithTier().Only(w.sys())
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func (w *world) sys() context.Context { return auth.SystemContext(context.Background(), w.pid) }

func (w *world) view(ext string) View {
	w.t.Helper()
	prog, _ := w.db.Client.Program.Get(w.sys(), w.pid)
	v, err := w.score.Of(w.sys(), prog, w.member(ext))
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func (w *world) points(ext string, kind pointentry.Kind) (n int, sum int64) {
	es, err := w.db.Client.PointEntry.Query().Where(pointentry.MemberID(w.member(ext).ID), pointentry.KindEQ(kind)).All(w.sys())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range es {
		sum += e.Amount
	}
	return len(es), sum
}

// activeMember gives ext a known score of 3,084 in March 2025 (docs/domain.md §4 weights): spend
// ¥3,000 (3,000) on one day (5), two login days (2), a review (2), a photo review (3), an
// answer (1), a share (1), real name (50) and one bound account (20).
func (w *world) activeMember(ext string) {
	day := w.at(2025, 3, 10)
	w.order(ext, ext+"-o1", day, line("phone", 3000))
	w.send(ext, payload.Login, day, payload.Body{})
	w.send(ext, payload.AppOpened, day.Add(-time.Hour), payload.Body{})
	w.send(ext, payload.Login, w.at(2025, 3, 11), payload.Body{})
	w.send(ext, payload.ReviewPosted, w.at(2025, 3, 12), payload.Body{OrderID: ext + "-o1", SKUs: []string{"phone"}})
	w.send(ext, payload.ReviewPosted, w.at(2025, 3, 12), payload.Body{OrderID: ext + "-o1", SKUs: []string{"phone"}}) // a repeat counts once
	w.send(ext, payload.PhotoReviewPosted, w.at(2025, 3, 12), payload.Body{OrderID: ext + "-o1", SKUs: []string{"phone"}})
	w.send(ext, payload.QuestionAnswered, w.at(2025, 3, 13), payload.Body{})
	w.send(ext, payload.ProductShared, w.at(2025, 3, 13), payload.Body{})
	w.send(ext, payload.AccountVerified, w.at(2025, 3, 14), payload.Body{})
	w.send(ext, payload.AccountBound, w.at(2025, 3, 14), payload.Body{Provider: "WECHAT"})
	w.send(ext, payload.AccountBound, w.at(2025, 3, 14), payload.Body{Provider: "WECHAT"}) // bound once
}

func TestSettlement(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil, "alice", "bob", "carol")
		w.activeMember("alice")

		w.at(2025, 3, 20)
		if p := w.view("alice").Provisional; p.Score != 3084 || p.Consumption != 3005 || p.Activity != 9 || p.AccountPoints != 70 {
			t.Fatalf("provisional = %+v, want 3084 = 3005 + 9 + 70", p)
		}
		w.at(2025, 4, 1)
		st := w.settle(202504)
		if st.Status != "DONE" || st.Members != 3 || st.TierChanges != 1 || st.Partitions < 2 {
			t.Fatalf("settlement = %+v", st)
		}
		a := w.member("alice")
		if a.Edges.Tier.Key != "SILVER" {
			t.Fatalf("alice is %s, want SILVER", a.Edges.Tier.Key)
		}
		v := w.view("alice")
		if v.Settled != 3084 || v.Period != 202504 || v.Dimensions.Consumption != 3005 || v.SettledAt == nil {
			t.Fatalf("settled view = %+v", v)
		}
		if b := w.member("bob"); b.Edges.Tier.Key != "REGISTERED" {
			t.Fatalf("bob is %s", b.Edges.Tier.Key)
		}
		// The upgrade gift: Silver's 200 points and its coupon, once.
		if n, sum := w.points("alice", pointentry.KindTIER_GIFT); n != 1 || sum != 200 {
			t.Fatalf("gift entries %d, %d points", n, sum)
		}
		claims, _ := db.Client.BenefitClaim.Query().Where(benefitclaim.MemberID(a.ID), benefitclaim.SourceEQ(benefitclaim.SourceTIER_GIFT)).Count(w.sys())
		if claims != 1 {
			t.Fatalf("gift coupons = %d", claims)
		}

		// Settling the same period again is a second run with nobody left to settle.
		again := w.settle(202504)
		if again.ID != st.ID || again.Run != 2 || again.Members != 0 || again.TierChanges != 0 {
			t.Fatalf("second run = %+v", again)
		}
		if n, _ := w.points("alice", pointentry.KindTIER_GIFT); n != 1 {
			t.Fatalf("gift paid %d times", n)
		}
		// An earlier period than one settled is refused.
		if _, err := w.score.Settle(context.Background(), w.pid, 202503); !isCode(err, usererr.FailedPrecondition) {
			t.Fatalf("earlier period: %v", err)
		}
		if _, err := w.score.Settle(context.Background(), w.pid, 202612); !isCode(err, usererr.FailedPrecondition) {
			t.Fatalf("future period: %v", err)
		}

		// Twelve months on, March 2025 is still in the window of 2026-03 (2025-03..2026-02);
		// on 2026-04 it is 13 months old and no longer counts: alice falls back.
		w.at(2026, 3, 1)
		w.settle(202603)
		if k := w.member("alice").Edges.Tier.Key; k != "SILVER" {
			t.Fatalf("2026-03: alice is %s", k)
		}
		w.at(2026, 4, 1)
		w.settle(202604)
		a = w.member("alice")
		if a.Edges.Tier.Key != "REGISTERED" || w.view("alice").Settled != 70 {
			t.Fatalf("2026-04: alice is %s with %d", a.Edges.Tier.Key, w.view("alice").Settled)
		}
		hist, _ := db.Client.TierChange.Query().Where(tierchange.MemberID(a.ID)).Order(ent.Asc(tierchange.FieldPeriod)).All(w.sys())
		if len(hist) != 2 || hist[0].Direction != "UP" || hist[1].Direction != "DOWN" || hist[1].Period != 202604 || hist[1].Score != 70 {
			t.Fatalf("history = %+v", hist)
		}
	})
}

// TestRefundsAndRisk: a refund takes its lines out of the month of the order, a full refund
// its order and purchase day; a risk signal below 40 sets the coefficient to 0.8.
func TestRefundsAndRisk(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil, "dave")
		d := w.at(2025, 3, 10)
		w.order("dave", "o1", d, line("a", 1000), line("b", 500))
		w.order("dave", "o2", w.at(2025, 3, 11), line("c", 2000))
		// Refunded in May; the March counters move.
		w.send("dave", payload.OrderRefunded, w.at(2025, 5, 2), payload.Body{OrderID: "o1", SKUs: []string{"a"}})
		p := w.view("dave").Provisional
		if p.Counts.SpendCents != 250_000 || p.Counts.Orders != 2 || p.Counts.RefundedOrders != 1 || p.Counts.PurchaseDays != 2 {
			t.Fatalf("after a partial refund: %+v", p.Counts)
		}
		w.send("dave", payload.OrderRefunded, w.at(2025, 5, 3), payload.Body{OrderID: "o1", SKUs: []string{"b"}})
		p = w.view("dave").Provisional
		if p.Counts.SpendCents != 200_000 || p.Counts.Orders != 1 || p.Counts.RefundedOrders != 1 || p.Counts.PurchaseDays != 1 || p.Score != 2005 {
			t.Fatalf("after the full refund: %+v score %d", p.Counts, p.Score)
		}
		rep := 30
		w.send("dave", payload.RiskUpdated, w.at(2025, 5, 4), payload.Body{Reputation: &rep})
		if p := w.view("dave").Provisional; p.CoefficientPercent != 80 || p.Score != 1604 {
			t.Fatalf("risky: %d%% → %d, want 80%% → 1604", p.CoefficientPercent, p.Score)
		}
		w.at(2025, 6, 1)
		w.settle(202506)
		if m := w.member("dave"); m.Edges.Tier.Key != "BRONZE" {
			t.Fatalf("dave is %s", m.Edges.Tier.Key)
		}
	})
}

// TestConcurrentSettlements: two workers settling one period at once give what one gives:
// one history entry per member, each gift once.
func TestConcurrentSettlements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		names := []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"}
		w := newWorld(t, db, nil, names...)
		for i, n := range names {
			w.order(n, "o-"+n, w.at(2025, 3, 10), line("x", int64(800*(i+1))))
		}
		w.at(2025, 4, 1)
		other := NewService(db.Client, w.clk, w.ledger, SettleConfig{PartitionSize: 1, ChunkSize: 1, Worker: "other"})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*Service{w.score, other} {
			wg.Go(func() { _, errs[i] = s.Settle(context.Background(), w.pid, 202504) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		checkSettled(t, w, names, 202504)
	})
}

// TestResumeAfterCrash: a partition left RUNNING by a worker that died is taken over once
// its lease has run out, and the settlement completes.
func TestResumeAfterCrash(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		names := []string{"m0", "m1", "m2", "m3", "m4"}
		w := newWorld(t, db, nil, names...)
		for i, n := range names {
			w.order(n, "o-"+n, w.at(2025, 3, 10), line("x", int64(1500*(i+1))))
		}
		w.at(2025, 4, 1)
		ctx := w.sys()
		st, err := w.score.begin(ctx, ctx, w.pid, 202504, false)
		if err != nil {
			t.Fatal(err)
		}
		// A worker claimed the first partition and died: its lease ended a minute ago.
		first, _ := db.Client.SettlementPartition.Query().Where(settlementpartition.SettlementID(st.ID)).Order(ent.Asc(settlementpartition.FieldLo)).First(ctx)
		db.Client.SettlementPartition.UpdateOne(first).SetStatus(settlementpartition.StatusRUNNING).SetWorker("dead/0").
			SetLeaseUntil(time.Now().UTC().Add(-time.Minute)).ExecX(ctx)
		done := w.settle(202504)
		if done.Status != "DONE" || done.Members != len(names) {
			t.Fatalf("resumed settlement = %+v", done)
		}
		checkSettled(t, w, names, 202504)
	})
}

func checkSettled(t *testing.T, w *world, names []string, period formula.Month) {
	t.Helper()
	if _, err := w.score.DeliverGifts(context.Background(), w.pid); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		m := w.member(n)
		v := w.view(n)
		want := w.view(n).Provisional.Score // nothing happened since: provisional over the same months
		if v.Settled != want || v.Period != period {
			t.Errorf("%s settled %d for %s, want %d", n, v.Settled, v.Period, want)
		}
		if m.Edges.Tier.MinScore > v.Settled {
			t.Errorf("%s is %s with %d", n, m.Edges.Tier.Key, v.Settled)
		}
		changes, _ := w.db.Client.TierChange.Query().Where(tierchange.MemberID(m.ID)).Count(w.sys())
		wantChanges := 0
		if m.Edges.Tier.Level > 0 {
			wantChanges = 1
		}
		gifts, _ := w.points(n, pointentry.KindTIER_GIFT)
		if changes != wantChanges || gifts != wantChanges {
			t.Errorf("%s (%s): %d history entries, %d gifts, want %d", n, m.Edges.Tier.Key, changes, gifts, wantChanges)
		}
		scores, _ := w.db.Client.MemberScore.Query().Where(memberscore.MemberID(m.ID)).Count(w.sys())
		if scores != 1 {
			t.Errorf("%s has %d score rows", n, scores)
		}
	}
}

// TestCumulativeGrowth: in cumulative mode settled growth adds each period's new activity
// and loses the tier's yearly deduction on 1 January.
func TestCumulativeGrowth(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, func(d *program.Definition) { d.Rules.Score.Mode = rules.ScoreCumulative }, "erin")
		w.order("erin", "o1", w.at(2025, 10, 10), line("x", 2600)) // 2,600 + 5
		w.at(2025, 11, 1)
		w.settle(202511)
		if v := w.view("erin"); v.Settled != 2605 || w.member("erin").Edges.Tier.Key != "SILVER" {
			t.Fatalf("2025-11: %d %s", v.Settled, w.member("erin").Edges.Tier.Key)
		}
		w.order("erin", "o2", w.at(2025, 12, 5), line("y", 100)) // +105
		w.at(2026, 1, 1)
		w.settle(202601)
		// 2,605 − Silver's 500 on 1 January + December's 105 = 2,210: Bronze.
		if v := w.view("erin"); v.Settled != 2210 || w.member("erin").Edges.Tier.Key != "BRONZE" {
			t.Fatalf("2026-01: %d %s", v.Settled, w.member("erin").Edges.Tier.Key)
		}
		// Old activity does not fall away in cumulative mode, nor count twice.
		w.at(2026, 2, 1)
		w.settle(202602)
		if v := w.view("erin"); v.Settled != 2210 || v.Provisional.Score != 2210 {
			t.Fatalf("2026-02: settled %d provisional %d", v.Settled, v.Provisional.Score)
		}
	})
}

func isCode(err error, code usererr.Code) bool {
	ue, ok := usererr.From(err)
	return ok && ue[0].Code == code
}

// TestUpgradeGiftOncePerYear: reaching a tier again in the same calendar year gives no
// second gift; reaching it in a new year does.
func TestUpgradeGiftOncePerYear(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil, "fay")
		w.order("fay", "o1", w.at(2025, 3, 10), line("x", 1200))
		w.at(2025, 4, 1)
		w.settle(202504) // Bronze: gift
		w.send("fay", payload.OrderRefunded, w.at(2025, 4, 5), payload.Body{OrderID: "o1", SKUs: []string{"x"}})
		w.at(2025, 5, 1)
		w.settle(202505) // back to Registered
		if k := w.member("fay").Edges.Tier.Key; k != "REGISTERED" {
			t.Fatalf("after the refund fay is %s", k)
		}
		w.order("fay", "o2", w.at(2025, 5, 10), line("y", 1200))
		w.at(2025, 6, 1)
		w.settle(202506) // Bronze again, same year: no gift
		if n, sum := w.points("fay", pointentry.KindTIER_GIFT); n != 1 || sum != 100 {
			t.Fatalf("2025: %d gifts, %d points", n, sum)
		}
		w.send("fay", payload.OrderRefunded, w.at(2025, 6, 5), payload.Body{OrderID: "o2", SKUs: []string{"y"}})
		w.at(2025, 7, 1)
		w.settle(202507)
		w.order("fay", "o3", w.at(2025, 12, 10), line("z", 1200))
		w.at(2026, 1, 1)
		w.settle(202601) // Bronze in a new year: a new gift
		if n, _ := w.points("fay", pointentry.KindTIER_GIFT); n != 2 {
			t.Fatalf("2026: %d gifts", n)
		}
		changes, _ := db.Client.TierChange.Query().Where(tierchange.MemberID(w.member("fay").ID)).Count(w.sys())
		if changes != 5 {
			t.Fatalf("%d tier changes, want 5 (up, down, up, down, up)", changes)
		}
	})
}

// TestLostLeaseWritesNothing: a worker whose partition was taken over (its lease ran out
// while it was slow) cannot write its chunk: the partition's results come from one worker.
func TestLostLeaseWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil, "m0", "m1")
		w.order("m0", "o0", w.at(2025, 3, 10), line("x", 3000))
		w.at(2025, 4, 1)
		ctx := w.sys()
		st, err := w.score.begin(ctx, ctx, w.pid, 202504, false)
		if err != nil {
			t.Fatal(err)
		}
		prog, _ := db.Client.Program.Get(ctx, w.pid)
		ladder, _ := tier.Load(ctx, db.Client)
		r := &run{Service: w.score, prog: prog, rules: prog.Rules.ScoreRules(), ladder: ladder, st: st, period: 202504}
		p, err := r.claim(ctx, "slow/0")
		if err != nil || p == nil {
			t.Fatalf("claim: %v %v", p, err)
		}
		// The slow worker's lease runs out and another worker takes the partition over.
		db.Client.SettlementPartition.UpdateOneID(p.ID).SetLeaseUntil(time.Now().UTC().Add(-time.Second)).ExecX(ctx)
		if q, err := r.claim(ctx, "fast/0"); err != nil || q == nil || q.ID != p.ID {
			t.Fatalf("takeover: %v %v", q, err)
		}
		ms, _ := db.Client.Member.Query().All(ctx)
		if err := r.chunk(ctx, p, "slow/0", ms); !errors.Is(err, errLostLease) {
			t.Fatalf("the slow worker's write: %v, want errLostLease", err)
		}
		if n, _ := db.Client.MemberScore.Query().Where(memberscore.PeriodEQ(202504)).Count(ctx); n != 0 {
			t.Fatalf("the slow worker wrote %d scores", n)
		}
		if err := r.partition(ctx, p, "fast/0"); err != nil {
			t.Fatal(err)
		}
		if done, err := r.finish(ctx); err != nil || !done {
			t.Fatalf("finish: %v %v", done, err)
		}
		checkSettled(t, w, []string{"m0", "m1"}, 202504)
	})
}

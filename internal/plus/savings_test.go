package plus_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/benefit"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// shanghai is the preset programme's zone; the orders below are placed in its local time.
var shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

type savingsWorld struct {
	t      *testing.T
	db     *store.DB
	clk    *clock.Manual
	ledger *points.Ledger
	evs    *events.Service
	svc    context.Context
	prog   *ent.Program
	member *ent.Member
}

func newSavingsWorld(t *testing.T, db *store.DB, start time.Time) *savingsWorld {
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	clk := clock.NewManual(start)
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	w := &savingsWorld{t: t, db: db, clk: clk, ledger: ledger, evs: events.NewService(db.Client, ledger, 0),
		svc: auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "shop", ProgramID: pid})}
	m, err := memberpkg.NewService(db.Client, clk).Register(w.svc, memberpkg.Registration{ExternalID: "wei", Channel: member.RegistrationChannelWEB})
	if err != nil {
		t.Fatal(err)
	}
	w.member = m
	sys := auth.SystemContext(ctx, pid)
	if w.prog, err = db.Client.Program.Get(sys, pid); err != nil {
		t.Fatal(err)
	}
	return w
}

type line struct {
	sku, category string
	cents         int64
}

// order completes an order at local time at (the clock moves there first, as orders arrive
// when they happen) and checks it was accepted.
func (w *savingsWorld) order(id string, at time.Time, lines ...line) {
	w.t.Helper()
	w.clk.Set(at)
	var ls []payload.Line
	for _, l := range lines {
		ls = append(ls, payload.Line{SKU: l.sku, Category: l.category, PaidCents: l.cents, ProductType: "PHYSICAL"})
	}
	w.record(events.Input{IdempotencyKey: "done-" + id, ExternalID: "wei", Kind: payload.OrderCompleted, OccurredAt: at, Channel: "WEB",
		Body: payload.Body{OrderID: id, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: ls}})
}

func (w *savingsWorld) refund(id string, at time.Time, skus ...string) {
	w.t.Helper()
	w.clk.Set(at)
	w.record(events.Input{IdempotencyKey: "refund-" + id, ExternalID: "wei", Kind: payload.OrderRefunded, OccurredAt: at, Channel: "WEB",
		Body: payload.Body{OrderID: id, SKUs: skus}})
}

func (w *savingsWorld) record(in events.Input) {
	w.t.Helper()
	res, err := w.evs.Record(w.svc, []events.Input{in})
	if err != nil {
		w.t.Fatal(err)
	}
	if res[0].Status != events.Accepted {
		w.t.Fatalf("%s: %s %+v", in.IdempotencyKey, res[0].Status, res[0].Err)
	}
}

func local(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, shanghai) }

// TestWouldHaveSaved works docs/domain.md §5's savings rules by hand over a non-member's
// year of orders (the preset: bonus 9× the purchase points at 100 = ¥1, 5% of all spend, 10% of
// APPAREL spend, a ¥10 coupon per confirmed order up to 4 a month, ¥10 per return up to 2 a
// month), read from the activity counters and the ledger.
func TestWouldHaveSaved(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newSavingsWorld(t, db, local(2025, 11, 1, 9))
		// Outside the window (it opens 1 Dec 2025): ¥500 of books, 50 points. Nothing of it counts.
		w.order("o-nov", local(2025, 11, 15, 10), line{"b1", "BOOKS", 50000})
		// Dec: ¥300 of apparel, 30 points.
		w.order("o-dec", local(2025, 12, 10, 10), line{"a1", "APPAREL", 30000})
		// Jan: a ¥1,234 phone (123 points) and ¥45 of books (below ¥50: no points).
		w.order("o-jan1", local(2026, 1, 5, 10), line{"p1", "PHONES", 123400})
		w.order("o-jan2", local(2026, 1, 6, 10), line{"b2", "BOOKS", 4500})
		// Mar: ¥199 apparel + ¥88 food (19 + 8 points); a ¥600 home order refunded in full in April.
		w.order("o-mar1", local(2026, 3, 3, 10), line{"a2", "APPAREL", 19900}, line{"f1", "FOOD", 8800})
		w.order("o-mar2", local(2026, 3, 20, 10), line{"h1", "HOME", 60000})
		w.refund("o-mar2", local(2026, 4, 2, 10), "h1")
		// May: five ¥60 book orders (6 points each); the coupons stop at 4 a month.
		for i := range 5 {
			w.order(fmt.Sprintf("o-may%d", i), local(2026, 5, 1+i, 10), line{"b3", "BOOKS", 6000})
		}
		// Aug: ¥1,000 apparel (100 points) and ¥250 shoes (25 points), the shoes returned.
		w.order("o-aug", local(2026, 8, 8, 10), line{"a3", "APPAREL", 100000}, line{"s1", "SHOES_BAGS", 25000})
		w.refund("o-aug", local(2026, 8, 20, 10), "s1")
		// Nov: ¥20,000 of digital goods: 2,000 points capped at 1,000 a line on the web.
		w.order("o-nov26", local(2026, 11, 1, 10), line{"d1", "DIGITAL", 2000000})
		now := local(2026, 11, 22, 16)
		w.clk.Set(now)

		got, err := plus.SavingsOf(auth.SystemContext(context.Background(), w.prog.ID), db.Client, w.prog, w.member.ID, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		// Purchase points of the window: 30 + 123 + 0 + 19 + 8 + (60 − 60) + 5×6 + 100 + (25 − 25)
		// + 1,000 = 1,310; the bonus would be 9 × 1,310 = 11,790 points = ¥117.90.
		// Confirmed, unrefunded spend: ¥300 + ¥1,234 + ¥45 + ¥199 + ¥88 + 5×¥60 + ¥1,000 +
		// ¥20,000 = ¥23,166; 5% = ¥1,158.30.
		// Apparel: ¥300 + ¥199 + ¥1,000 = ¥1,499; 10% = ¥149.90.
		// Coupons, one per order standing, 4 a month at most: Dec 1, Jan 2, Mar 1 (the home
		// order is refunded in full), May 4 of 5, Aug 1, Nov 1 = 10 × ¥10 = ¥100.
		// Return pickups, one per order with a return: Mar 1, Aug 1 = 2 × ¥10 = ¥20.
		want := map[string]int64{"BONUS_POINTS": 11790, "EXTRA_5_PERCENT": 115830, "APPAREL_10_PERCENT": 14990, "COUPONS": 10000, "RETURN_PICKUPS": 2000}
		order := []string{"BONUS_POINTS", "EXTRA_5_PERCENT", "APPAREL_10_PERCENT", "COUPONS", "RETURN_PICKUPS"}
		if len(got.Breakdown) != len(order) {
			t.Fatalf("breakdown = %+v", got.Breakdown)
		}
		for i, l := range got.Breakdown {
			if l.Rule != order[i] || l.WouldHaveSavedCents != want[l.Rule] || l.TermCents != 0 {
				t.Errorf("line %d = %+v, want %s would have saved %d, this term 0", i, l, order[i], want[order[i]])
			}
		}
		// ¥117.90 + ¥1,158.30 + ¥149.90 + ¥100 + ¥20 = ¥1,546.10
		if got.WouldHaveSavedCents != 154610 || got.TermCents != 0 {
			t.Errorf("would have saved %d, this term %d; want 154610 and 0", got.WouldHaveSavedCents, got.TermCents)
		}
	})
}

// claim uses a PLUS benefit at local time at.
func (w *savingsWorld) claim(key, idem string, at time.Time) {
	w.t.Helper()
	w.clk.Set(at)
	_, err := benefit.NewService(w.db.Client, w.ledger).Claim(w.svc, benefit.ClaimRequest{ExternalID: "wei", BenefitKey: key, IdempotencyKey: idem})
	if err != nil {
		w.t.Fatalf("claim %s: %v", key, err)
	}
}

// TestSavingsThisTerm works "this term" by hand for a member who bought PLUS in the middle of
// June: what came before the term's start instant, in the same month, does not count; the
// bonus and the spend of a refunded order do not either; the coupons count at the face value
// recorded on each claim. "Would have saved" applies the same rules to all of the window.
func TestSavingsThisTerm(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newSavingsWorld(t, db, local(2026, 6, 1, 9))
		// Before PLUS: ¥400 of apparel, 40 points.
		w.order("o-before", local(2026, 6, 10, 10), line{"a1", "APPAREL", 40000})
		w.clk.Set(local(2026, 6, 15, 10))
		res, err := plus.NewService(db.Client, w.ledger).Grant(w.svc, plus.GrantRequest{MemberID: w.member.ID, Plan: "ANNUAL",
			Source: plus.SourcePurchase, PaidCents: 14900, PaymentRef: "pay-1", IdempotencyKey: "buy-1"})
		if err != nil {
			t.Fatal(err)
		}
		term := res.Term
		// In the term: ¥100 of food (10 + 90 bonus); ¥250 apparel + ¥60 books (25 + 6, bonus 279);
		// a ¥1,000 home order (100 + 900) refunded in full; ¥2,345 of digital goods (234 + 2,106).
		w.order("o-food", local(2026, 6, 20, 10), line{"f1", "FOOD", 10000})
		w.order("o-mix", local(2026, 6, 25, 10), line{"a2", "APPAREL", 25000}, line{"b1", "BOOKS", 6000})
		w.order("o-home", local(2026, 7, 3, 10), line{"h1", "HOME", 100000})
		w.refund("o-home", local(2026, 7, 10, 10), "h1")
		w.order("o-digital", local(2026, 8, 1, 10), line{"d1", "DIGITAL", 234500})
		// Three ¥10 coupons in June, one in July, and a return pickup for the home order.
		for i := range 3 {
			w.claim("PLUS_MONTHLY_COUPON", fmt.Sprintf("jun-%d", i), local(2026, 6, 26+i, 10))
		}
		w.claim("PLUS_MONTHLY_COUPON", "jul-0", local(2026, 7, 5, 10))
		w.claim("PLUS_FREE_RETURN_PICKUP", "pickup-0", local(2026, 7, 9, 10))
		now := local(2026, 8, 15, 12)
		w.clk.Set(now)

		got, err := plus.SavingsOf(auth.SystemContext(context.Background(), w.prog.ID), db.Client, w.prog, w.member.ID, term, now)
		if err != nil {
			t.Fatal(err)
		}
		// This term:
		//   bonus 90 + 279 + (900 − 900) + 2,106 = 2,475 points = ¥24.75;
		//   spend ¥100 + ¥250 + ¥60 + (¥1,000 refunded) + ¥2,345 = ¥2,755, 5% = ¥137.75;
		//   apparel ¥250 (the ¥400 of 10 June came before the term), 10% = ¥25.00;
		//   coupons 4 × ¥10 = ¥40; pickups 1 × ¥10 = ¥10.  Total ¥237.50.
		// Would have saved, over September 2025 – August 2026:
		//   base points 40 + 10 + 31 + (100 − 100) + 234 = 315, 9× = 2,835 = ¥28.35;
		//   spend ¥400 + ¥2,755 = ¥3,155, 5% = ¥157.75; apparel ¥650, 10% = ¥65.00;
		//   coupons: June 3 orders, July none standing, August 1 = 4 × ¥10 = ¥40;
		//   pickups: July's return = ¥10.  Total ¥301.10.
		want := []plus.SavingsLine{
			{Rule: "BONUS_POINTS", TermCents: 2475, WouldHaveSavedCents: 2835},
			{Rule: "EXTRA_5_PERCENT", TermCents: 13775, WouldHaveSavedCents: 15775},
			{Rule: "APPAREL_10_PERCENT", TermCents: 2500, WouldHaveSavedCents: 6500},
			{Rule: "COUPONS", TermCents: 4000, WouldHaveSavedCents: 4000},
			{Rule: "RETURN_PICKUPS", TermCents: 1000, WouldHaveSavedCents: 1000},
		}
		if !reflect.DeepEqual(got.Breakdown, want) {
			t.Errorf("breakdown\n got %+v\nwant %+v", got.Breakdown, want)
		}
		if got.TermCents != 23750 || got.WouldHaveSavedCents != 30110 {
			t.Errorf("this term %d, would have saved %d; want 23750 and 30110", got.TermCents, got.WouldHaveSavedCents)
		}
	})
}

package medal_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/medalchange"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/membermedal"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/medal"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// TestLevels: the preset's thresholds per kind (docs/domain.md §6).
func TestLevels(t *testing.T) {
	def := program.JDPreset()
	var phones, orders, reviews program.MedalDef
	categories := 0
	for _, m := range def.Medals {
		switch m.Key {
		case "PHONES":
			phones = m
		case medal.Orders:
			orders = m
		case medal.Reviews:
			reviews = m
		}
		if m.Kind == "CATEGORY" {
			categories++
		}
	}
	if categories != 21 || len(def.Medals) != 26 {
		t.Fatalf("%d category medals of %d", categories, len(def.Medals))
	}
	for _, tc := range []struct {
		m     program.MedalDef
		value int64
		level int
	}{
		{phones, 499, 0}, {phones, 500, 1}, {phones, 1999, 1}, {phones, 2000, 2}, {phones, 5000, 3}, {phones, 10000, 4}, {phones, 20000, 5}, {phones, 99999, 5},
		{orders, 4, 0}, {orders, 5, 1}, {orders, 20, 2}, {orders, 50, 3}, {orders, 100, 4}, {orders, 200, 5},
		{reviews, 200, 4}, {reviews, 299, 4}, {reviews, 300, 5},
	} {
		if got := medal.Level(tc.m.Thresholds, tc.value); got != tc.level {
			t.Errorf("%s at %d: level %d, want %d", tc.m.Key, tc.value, got, tc.level)
		}
	}
}

type world struct {
	t      *testing.T
	db     *store.DB
	clk    *clock.Manual
	pid    int
	svc    context.Context
	events *events.Service
	medals *medal.Service
	n      int
}

func newWorld(t *testing.T, db *store.DB, members ...string) *world {
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	w := &world{t: t, db: db, pid: pid, clk: clock.NewManual(time.Date(2025, 1, 1, 0, 0, 0, 0, shanghai))}
	w.svc = auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "test", ProgramID: pid})
	ledger := points.NewLedger(db.Client, db.Dialect, w.clk, nil)
	w.events = events.NewService(db.Client, ledger, 0)
	w.medals = medal.NewService(db.Client, ledger)
	for _, m := range members {
		if _, err := memberpkg.NewService(db.Client, w.clk).Register(w.svc, memberpkg.Registration{ExternalID: m, Channel: member.RegistrationChannelAPP}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

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

func (w *world) order(ext, id string, at time.Time, category string, yuan int64) {
	w.send(ext, payload.OrderCompleted, at, payload.Body{OrderID: id, OrderType: "NORMAL", PaymentMethod: "CASH",
		Lines: []payload.Line{{SKU: "sku-" + id, Category: category, PaidCents: yuan * 100, ProductType: "PHYSICAL"}}})
}

func (w *world) sys() context.Context { return auth.SystemContext(context.Background(), w.pid) }

func (w *world) member(ext string) *ent.Member {
	m, err := w.db.Client.Member.Query().Where(member.ExternalID(ext)).Only(w.sys())
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// status is the member's medal key as Of shows it, and its stored level.
func (w *world) status(ext, key string) (medal.Status, int) {
	w.t.Helper()
	prog, _ := w.db.Client.Program.Get(w.sys(), w.pid)
	m := w.member(ext)
	all, err := w.medals.Of(w.sys(), prog, m)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(all) != 26 {
		w.t.Fatalf("%d medals listed", len(all))
	}
	stored := 0
	if row, err := w.db.Client.MemberMedal.Query().Where(membermedal.MemberID(m.ID), membermedal.MedalKey(key)).Only(w.sys()); err == nil {
		stored = row.Level
	}
	for _, s := range all {
		if s.Medal.Key == key {
			return s, stored
		}
	}
	w.t.Fatalf("no medal %s", key)
	return medal.Status{}, 0
}

func (w *world) coupons(ext string) int {
	n, err := w.db.Client.BenefitClaim.Query().Where(benefitclaim.MemberID(w.member(ext).ID), benefitclaim.SourceEQ(benefitclaim.SourceMEDAL)).Count(w.sys())
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// TestLevelsFollowEventsRefundsAndTheWindow: a category medal rises with spend, falls with a
// refund, grants its level-3 coupon once, and the daily job lowers it when the spend leaves
// the 12-month window.
func TestLevelsFollowEventsRefundsAndTheWindow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "gus")
		w.order("gus", "o1", w.at(2025, 1, 10), "PHONES", 1500)
		if s, stored := w.status("gus", "PHONES"); s.Level != 1 || stored != 1 || s.Current != 1500 || *s.NextLevelAt != 2000 {
			t.Fatalf("after ¥1,500: %+v stored %d", s, stored)
		}
		w.order("gus", "o2", w.at(2025, 2, 10), "PHONES", 4000)
		s, stored := w.status("gus", "PHONES")
		if s.Level != 3 || stored != 3 || len(s.Benefits) != 1 || s.Benefits[0].Key != "MEDAL_COUPON" || w.coupons("gus") != 1 {
			t.Fatalf("after ¥5,500: level %d stored %d benefits %d coupons %d", s.Level, stored, len(s.Benefits), w.coupons("gus"))
		}
		if o, _ := w.status("gus", medal.Orders); o.Current != 2 || o.Level != 0 || *o.NextLevelAt != 5 {
			t.Fatalf("orders medal: %+v", o)
		}
		// A refund takes the spend back: level 1 again, recorded; level 3 reached again
		// does not grant its coupon twice.
		w.send("gus", payload.OrderRefunded, w.at(2025, 3, 1), payload.Body{OrderID: "o2", SKUs: []string{"sku-o2"}})
		if s, stored := w.status("gus", "PHONES"); s.Level != 1 || stored != 1 {
			t.Fatalf("after the refund: %d stored %d", s.Level, stored)
		}
		w.order("gus", "o3", w.at(2025, 3, 5), "PHONES", 4000)
		if s, _ := w.status("gus", "PHONES"); s.Level != 3 || w.coupons("gus") != 1 {
			t.Fatalf("level %d again, %d coupons", s.Level, w.coupons("gus"))
		}
		// January 2026: the window is 2025-02 … 2026-01, January 2025's ¥1,500 is out.
		// The level shown follows at once; the stored level waits for the daily job.
		w.at(2026, 1, 20)
		if s, stored := w.status("gus", "PHONES"); s.Level != 2 || s.Current != 4000 || stored != 3 {
			t.Fatalf("in 2026 before the job: %d (%d yuan) stored %d", s.Level, s.Current, stored)
		}
		n, err := w.medals.ReevaluateAll(context.Background(), 2)
		if err != nil || n != 1 {
			t.Fatalf("re-evaluation: %d changes, %v", n, err)
		}
		if _, stored := w.status("gus", "PHONES"); stored != 2 {
			t.Fatalf("stored after the job: %d", stored)
		}
		if n, err := w.medals.ReevaluateAll(context.Background(), 2); err != nil || n != 0 {
			t.Fatalf("second run: %d changes, %v", n, err)
		}
		hist, _ := db.Client.MedalChange.Query().Where(medalchange.MemberID(w.member("gus").ID), medalchange.MedalKey("PHONES")).
			Order(ent.Asc(medalchange.FieldID)).All(w.sys())
		want := [][2]int{{0, 1}, {1, 3}, {3, 1}, {1, 3}, {3, 2}}
		if len(hist) != len(want) {
			t.Fatalf("history: %d entries", len(hist))
		}
		for i, h := range hist {
			if [2]int{h.FromLevel, h.ToLevel} != want[i] || h.Reason == "" {
				t.Errorf("history %d: %d→%d %q", i, h.FromLevel, h.ToLevel, h.Reason)
			}
		}
	})
}

// TestBehaviourMedals: counts of orders, reviews, photo reviews, answers and check-ins.
func TestBehaviourMedals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "ivy")
		for i := range 5 {
			day := w.at(2025, 1, 2+i)
			w.order("ivy", fmt.Sprintf("o%d", i), day, "BOOKS", 60)
			w.send("ivy", payload.ReviewPosted, day, payload.Body{OrderID: fmt.Sprintf("o%d", i), SKUs: []string{fmt.Sprintf("sku-o%d", i)}})
			w.send("ivy", payload.CheckIn, day, payload.Body{})
			w.send("ivy", payload.CheckIn, day, payload.Body{}) // the same day counts once
			w.send("ivy", payload.QuestionAnswered, day, payload.Body{})
		}
		for key, want := range map[string][2]int64{medal.Orders: {5, 1}, medal.Reviews: {5, 1}, medal.CheckIns: {5, 1}, medal.Answers: {5, 1}, medal.PhotoReviews: {0, 0}, "BOOKS": {300, 0}} {
			s, stored := w.status("ivy", key)
			if s.Current != want[0] || int64(s.Level) != want[1] || int64(stored) != want[1] {
				t.Errorf("%s: %d → level %d (stored %d), want %v", key, s.Current, s.Level, stored, want)
			}
		}
	})
}

// TestLeaders: members at the highest levels first.
func TestLeaders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "a", "b", "c", "d")
		for i, ext := range []string{"a", "b", "c"} {
			w.order(ext, "o-"+ext, w.at(2025, 1, 10), "BEAUTY", []int64{600, 11000, 2500}[i])
		}
		rows, err := w.medals.Leaders("BEAUTY").Order(ent.Desc(membermedal.FieldLevel)).WithMember().All(w.sys())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s:%d", r.Edges.Member.ExternalID, r.Level))
		}
		if fmt.Sprint(got) != "[b:4 c:2 a:1]" {
			t.Fatalf("leaders = %v", got)
		}
	})
}

// TestReadingMedalsIsBounded counts the SQL statements of reading all 26 medals: the same
// few whether a member has earned none or many.
func TestReadingMedalsIsBounded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "quiet", "busy")
		for i, c := range []string{"PHONES", "BOOKS", "FOOD", "TOYS", "PETS", "WINE"} {
			w.order("busy", fmt.Sprintf("o%d", i), w.at(2025, 1, 2+i), c, 2500)
		}
		var statements atomic.Int64
		drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(context.Context, ...any) { statements.Add(1) })
		counting := medal.NewService(ent.NewClient(ent.Driver(drv)), points.NewLedger(db.Client, db.Dialect, w.clk, nil))
		prog, _ := db.Client.Program.Get(w.sys(), w.pid)
		for _, ext := range []string{"quiet", "busy"} {
			statements.Store(0)
			all, err := counting.Of(w.sys(), prog, w.member(ext))
			if err != nil {
				t.Fatal(err)
			}
			earned := 0
			for _, s := range all {
				if s.Level > 0 {
					earned++
				}
			}
			if n := statements.Load(); n != 3 {
				t.Errorf("%s (%d of %d medals earned): %d statements, want 3", ext, earned, len(all), n)
			}
		}
	})
}

package demo_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointentry"
	enttier "github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/demo"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// now is when the tests load the demo: the history is December 2025 to November 2026 and
// the settlement period December 2026.
var now = time.Date(2026, 12, 3, 10, 0, 0, 0, shanghai)

// world is the preset programme on a fresh database with the services wired as serve
// wires them, on a clock standing at now.
type world struct {
	db     *store.DB
	pid    int
	prog   *ent.Program
	sys    context.Context
	svc    demo.Services
	medals *medal.Service
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, err := progs.IDByKey(ctx, program.PresetKey)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(now)
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	w := &world{db: db, pid: pid, sys: auth.SystemContext(ctx, pid), medals: medal.NewService(db.Client, ledger),
		svc: demo.Services{
			Members: member.NewService(db.Client, clk),
			Events:  events.NewService(db.Client, ledger, 0),
			Ledger:  ledger,
			Scores:  score.NewService(db.Client, clk, ledger, score.SettleConfig{}),
			Plus:    plus.NewService(db.Client, ledger),
		}}
	if w.prog, err = db.Client.Program.Get(w.sys, pid); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) load(t *testing.T, cfg demo.Config) demo.Summary {
	t.Helper()
	s, err := demo.Load(context.Background(), w.db.Client, w.svc, w.pid, cfg)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return s
}

func plusTerms(t *testing.T, w *world) int {
	t.Helper()
	n, err := w.db.Client.PlusTerm.Query().Count(w.sys)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (w *world) member(t *testing.T, ext string) *ent.Member {
	t.Helper()
	m, err := w.db.Client.Member.Query().Where(entmember.ExternalID(ext)).WithTier().Only(w.sys)
	if err != nil {
		t.Fatalf("%s: %v", ext, err)
	}
	return m
}

// TestDemo loads a demo of 150 members, checks what it holds, and loads it again.
func TestDemo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		cfg := demo.Config{Members: 150, Seed: 7}
		first := w.load(t, cfg)
		t.Logf("first load: %d members, %d events in %v; tiers %v", first.Members, first.Events, first.Elapsed, first.Tiers)
		if first.Registered != 150 || first.Accepted != first.Events || first.Events == 0 || first.Spent != 1 {
			t.Errorf("first load: %+v; want 150 registered, every event accepted, the debtor's spend taken", first)
		}
		// Members 5, 30, …, 130 buy the annual plan and 15, 40, …, 140 start the trial: 6 + 6.
		if first.PlusTerms != 12 || plusTerms(t, w) != 12 {
			t.Errorf("first load granted %d PLUS terms, want 12", first.PlusTerms)
		}
		if first.Period.String() != "2026-12" || first.Settlement == nil || first.Settlement.Members != 150 {
			t.Errorf("settlement of %s: %+v; want 2026-12 with the 150 members", first.Period, first.Settlement)
		}

		t.Run("pyramid", func(t *testing.T) { checkPyramid(t, w, first) })
		t.Run("showcase", func(t *testing.T) { checkShowcase(t, w) })
		t.Run("debtor", func(t *testing.T) { checkDebtor(t, w) })

		t.Run("second load writes nothing", func(t *testing.T) {
			before := dump(t, db)
			again := w.load(t, cfg)
			if again.Registered != 0 || again.Accepted != 0 || again.Spent != 0 || again.Gifts != 0 || again.PlusTerms != 0 ||
				again.Events != first.Events || again.Spends != first.Spends {
				t.Errorf("second load: %+v; want every event DUPLICATE, the spend replayed, nothing new", again)
			}
			if !reflect.DeepEqual(again.Tiers, first.Tiers) {
				t.Errorf("tiers after the second load %v, after the first %v", again.Tiers, first.Tiers)
			}
			after := dump(t, db)
			for table, rows := range before {
				if after[table] != rows {
					t.Errorf("table %s changed on the second load", table)
				}
			}
		})

		t.Run("another seed is refused", func(t *testing.T) {
			_, err := demo.Load(context.Background(), db.Client, w.svc, w.pid, demo.Config{Members: 150, Seed: 8})
			if err == nil || !strings.Contains(err.Error(), demo.ErrOtherDemo.Error()) {
				t.Errorf("loading seed 8 over seed 7: %v; want %v", err, demo.ErrOtherDemo)
			}
		})
	})
}

// checkPyramid: members in at least four tiers, each tier above Bronze holding no more
// than the one below it, and the summary agreeing with the members' rows.
func checkPyramid(t *testing.T, w *world, s demo.Summary) {
	var keys []string
	held, total := 0, 0
	for i, tc := range s.Tiers {
		keys = append(keys, tc.Key)
		total += tc.Members
		if tc.Members > 0 {
			held++
		}
		if i >= 2 && tc.Members > s.Tiers[i-1].Members {
			t.Errorf("%s holds %d members, more than %s below it (%d): not a pyramid", tc.Key, tc.Members, s.Tiers[i-1].Key, s.Tiers[i-1].Members)
		}
		n, err := w.db.Client.Member.Query().Where(entmember.ExternalIDHasPrefix(demo.Prefix),
			entmember.HasTierWith(enttier.Key(tc.Key))).Count(w.sys)
		if err != nil || n != tc.Members {
			t.Errorf("%s holds %d demo members (%v), the summary says %d", tc.Key, n, err, tc.Members)
		}
	}
	if got := strings.Join(keys, ","); got != "REGISTERED,BRONZE,SILVER,GOLD,DIAMOND" {
		t.Errorf("tiers %s, want the preset's five lowest first", got)
	}
	if held < 4 || total != 150 {
		t.Errorf("tiers %v: %d members in %d tiers; want 150 members in at least 4", s.Tiers, total, held)
	}
}

// checkShowcase compares ShowcaseMember with figures worked by hand from its script
// (showcase.go) and docs/domain.md.
//
// Score, settled for December 2026 over December 2025 – November 2026: spend ¥5,299 less
// the refunded kettle ¥69 = 5,230; 23 orders on 23 days × 5 = 115; app opened on 4 days a
// month × 12 = 48; 8 reviews × 2 = 16; 6 photo reviews × 3 = 18; 3 answers; 4 shares;
// real name 50 + 2 bound accounts × 20 = 90: raw 5,524. Reputation 86 and credit 88 with
// 1 refunded order in 23 (43‰) meet the 120% band, not the 130% one (90 each):
// round(5,524 × 1.2) = 6,629, Gold (4,500), 371 short of Diamond (7,000).
//
// Points: purchase, 10% of each line of ¥50 or more floored to ¥10, nothing for the group
// buy, the gold coin or the virtual top-up: 29+6+5+15+249+8+5+7+12+19+9+6+9+17+12+8+8+6+5+
// 13+9+6+16+7 = 486, less the kettle's 6 taken back; first mobile order of the day on the 19
// app and mini-programme orders: 190; reviews 8 × 10 = 80; photo reviews 6 × 20 = 120;
// check-ins 26 × 5 = 130; the Gold upgrade gift 500: 1,500. Of them the earbuds' 29 + 10
// and two check-ins' 10, earned in December 2025, expire at the end of 31 December 2026,
// within 30 days of 3 December: 49.
//
// Medals over January – December 2026: phones ¥2,499 (level 2 at ¥2,000), apparel
// 159+199+129+139 = ¥626 (1), books 68+59+176+88+168 = ¥559 (1), 22 orders (2 at 20),
// 8 reviews (1), 6 photo reviews (1), 24 check-ins (2).
func checkShowcase(t *testing.T, w *world) {
	m := w.member(t, demo.ShowcaseMember)
	v, err := w.svc.Scores.Of(w.sys, w.prog, m)
	if err != nil {
		t.Fatal(err)
	}
	if v.Settled != 6629 || v.Period.String() != "2026-12" || m.Edges.Tier.Key != "GOLD" {
		t.Errorf("settled %d for %s, tier %s; want 6629 for 2026-12, GOLD", v.Settled, v.Period, m.Edges.Tier.Key)
	}
	if v.Dimensions.Consumption != 5230+115 || v.Dimensions.CoefficientPercent != 120 {
		t.Errorf("dimensions %+v; want consumption 5345 at 120%%", v.Dimensions)
	}
	bal, err := w.svc.Ledger.Balance(w.sys, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := entrySum(t, w, m.ID); bal.Available != 1500 || bal.Total != sum || sum != 1500 || bal.Debt != 0 {
		t.Errorf("balance %+v, entries sum to %d; want 1500 available, the sum of the entries", bal, sum)
	}
	if exp, err := w.svc.Ledger.Expiring(w.sys, m.ID, 30*24*time.Hour); err != nil || exp != 49 {
		t.Errorf("expiring within 30 days: %d, %v; want 49", exp, err)
	}
	gifts, err := w.db.Client.PointEntry.Query().Where(pointentry.MemberID(m.ID), pointentry.KindEQ(pointentry.KindTIER_GIFT)).Count(w.sys)
	if err != nil || gifts != 1 {
		t.Errorf("upgrade gifts: %d, %v; want the Gold gift once", gifts, err)
	}
	ms, err := w.medals.Of(w.sys, w.prog, m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ms {
		if s.Level > 0 {
			got = append(got, fmt.Sprintf("%s:%d", s.Medal.Key, s.Level))
		}
	}
	want := "APPAREL:1 BOOKS:1 CHECK_INS:2 ORDERS:2 PHONES:2 PHOTO_REVIEWS:1 REVIEWS:1"
	if g := sortedJoin(got); g != want {
		t.Errorf("medals above level 0: %s; want %s", g, want)
	}
}

// checkDebtor: DebtorMember earned 259 + 10 on the phone, 5 on a book, 15 for check-ins
// and 10 for a review, 299 in all; spent 290; the phone's refund takes back 259 of which 9
// were left: a debt of 250. Its score, the book alone: 58 + 5 for the day + 1 login day +
// 2 for the review = 66, Registered.
func checkDebtor(t *testing.T, w *world) {
	m := w.member(t, demo.DebtorMember)
	bal, err := w.svc.Ledger.Balance(w.sys, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := entrySum(t, w, m.ID); bal.Debt != 250 || bal.Available != -250 || bal.Total != sum || sum != -250 {
		t.Errorf("balance %+v, entries sum to %d; want a debt of 250", bal, sum)
	}
	v, err := w.svc.Scores.Of(w.sys, w.prog, m)
	if err != nil {
		t.Fatal(err)
	}
	if v.Settled != 66 || m.Edges.Tier.Key != "REGISTERED" {
		t.Errorf("settled %d, tier %s; want 66, REGISTERED", v.Settled, m.Edges.Tier.Key)
	}
}

func entrySum(t *testing.T, w *world, memberID int) int64 {
	t.Helper()
	var rows []struct{ Sum int64 }
	err := w.db.Client.PointEntry.Query().Where(pointentry.MemberID(memberID)).
		Aggregate(ent.Sum(pointentry.FieldAmount)).Scan(w.sys, &rows)
	if err != nil || len(rows) != 1 {
		t.Fatalf("sum of entries: %v", err)
	}
	return rows[0].Sum
}

func sortedJoin(s []string) string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return strings.Join(s, " ")
}

// dump reads every table but the settlement bookkeeping (which records each run of a
// settlement, even one with nothing left to settle) as text, row by row in key order.
func dump(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.Dialect == dialect.MySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	}
	tables := query(t, db, q)
	out := map[string]string{}
	for _, row := range strings.Split(strings.TrimSpace(tables), "\n") {
		name := strings.TrimSpace(row)
		if name == "" || strings.HasPrefix(name, "settlement") || strings.HasPrefix(name, "sqlite_") {
			continue
		}
		out[name] = query(t, db, "SELECT * FROM "+name+" ORDER BY 1")
	}
	for _, must := range []string{"members", "events", "point_entries", "point_lots", "member_scores", "tier_changes"} {
		if strings.Count(out[must], "\n") < 50 {
			t.Fatalf("table %s has %d rows", must, strings.Count(out[must], "\n"))
		}
	}
	return out
}

func query(t *testing.T, db *store.DB, q string) string {
	t.Helper()
	rows, err := db.SQL.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v\t", v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPlan checks the demo as data: the same seed and month make the same plan; members
// register before their first event; every event lies in the 12 months before the month;
// keys are unique and name the seed and the month.
func TestPlan(t *testing.T) {
	r := rules.JDPreset()
	a := demo.NewPlan(demo.Config{Members: 300, Seed: 3}, r, shanghai, now)
	b := demo.NewPlan(demo.Config{Members: 300, Seed: 3}, r, shanghai, now.Add(20*24*time.Hour))
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed in the same month made two plans")
	}
	if small := demo.NewPlan(demo.Config{Members: 50, Seed: 3}, r, shanghai, now); !reflect.DeepEqual(small.Members, a.Members[:50]) {
		t.Error("the first 50 members of a 300-member demo differ from a 50-member demo's")
	}
	c := demo.NewPlan(demo.Config{Members: 300, Seed: 4}, r, shanghai, now)
	if reflect.DeepEqual(a.Members[10], c.Members[10]) {
		t.Error("seeds 3 and 4 made the same drawn member")
	}
	from := time.Date(2025, 12, 1, 0, 0, 0, 0, shanghai)
	to := time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai)
	keys := map[string]bool{}
	for _, m := range a.Members {
		reg := *m.Registration.RegisteredAt
		all := append(append([]events.Input{}, m.History...), m.Late...)
		for i, e := range all {
			if !e.OccurredAt.After(reg) || e.OccurredAt.Before(from) || !e.OccurredAt.Before(to) {
				t.Errorf("%s: event %s at %s; registered %s, history %s – %s", m.Registration.ExternalID, e.IdempotencyKey, e.OccurredAt, reg, from, to)
			}
			if i > 0 && i < len(m.History) && e.OccurredAt.Before(all[i-1].OccurredAt) {
				t.Errorf("%s: history out of order at %s", m.Registration.ExternalID, e.IdempotencyKey)
			}
			if keys[e.IdempotencyKey] || !strings.Contains(e.IdempotencyKey, ":s3:2026-12:") {
				t.Errorf("key %s repeated or not naming seed 3 and 2026-12", e.IdempotencyKey)
			}
			keys[e.IdempotencyKey] = true
		}
	}
	if a.Members[0].Registration.ExternalID != demo.ShowcaseMember || a.Members[299].Registration.ExternalID != "demo-0300" {
		t.Errorf("members %s … %s", a.Members[0].Registration.ExternalID, a.Members[299].Registration.ExternalID)
	}
}

package points_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

var (
	sqliteSequences = flag.Int("points.sqlite-sequences", 0, "model-test sequences on SQLite (0: 60, or 1,000 with "+EnvLongModel+")")
	mysqlSequences  = flag.Int("points.mysql-sequences", 0, "model-test sequences on MySQL (0: 8, or 50 with "+EnvLongModel+")")
	modelSeed       = flag.Uint64("points.seed", 0, "seed of the first model-test sequence (0: from the clock)")
)

// mlot is the model's lot.
type mlot struct {
	remaining          int64
	expires, available time.Time
	order, sku         string
}

// mspend is a spend the model remembers, to reverse.
type mspend struct {
	key      string
	took     map[int]int64 // lot index → points
	reversed bool
}

// model is the tiny in-memory ledger the real one is checked against. It shares only
// points.Earn (the earning rules) with the code under test.
type model struct {
	r        rules.Rules
	loc      *time.Location
	lots     []*mlot
	debt     int64
	total    int64
	spends   []*mspend
	orders   map[string][]payload.Line
	refunded map[string]bool // order/sku
	checkIns map[string]bool // programme-local day
}

// newModel is an empty model of a member under r in loc.
func newModel(r rules.Rules, loc *time.Location) *model {
	return &model{r: r, loc: loc, orders: map[string][]payload.Line{}, refunded: map[string]bool{}, checkIns: map[string]bool{}}
}

func (m *model) expiresAt(t time.Time) time.Time {
	return time.Date(t.In(m.loc).Year()+m.r.Expiry.YearsAfterEarning+1, 1, 1, 0, 0, 0, 0, m.loc)
}

func (m *model) credit(now, earned time.Time, amount int64, fromOrder bool, order, sku string) {
	avail := now
	if fromOrder && m.r.Earning.PendingDays > 0 {
		avail = now.AddDate(0, 0, m.r.Earning.PendingDays)
	}
	paid := min(m.debt, amount)
	m.debt -= paid
	m.total += amount
	m.lots = append(m.lots, &mlot{remaining: amount - paid, expires: m.expiresAt(earned), available: avail, order: order, sku: sku})
}

// live returns lot indexes with points that have not expired, soonest expiry first.
func (m *model) live(now time.Time, spendableOnly bool, first func(*mlot) bool) []int {
	var idx []int
	for i, l := range m.lots {
		if l.remaining > 0 && l.expires.After(now) && (!spendableOnly || !l.available.After(now)) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if first != nil {
			fa, fb := first(m.lots[a]), first(m.lots[b])
			if fa != fb {
				if fa {
					return -1
				}
				return 1
			}
		}
		return m.lots[a].expires.Compare(m.lots[b].expires)
	})
	return idx
}

func (m *model) spendable(now time.Time) int64 {
	var n int64
	for _, i := range m.live(now, true, nil) {
		n += m.lots[i].remaining
	}
	return n - m.debt
}

func (m *model) take(now time.Time, amount int64, spendableOnly bool, first func(*mlot) bool) (map[int]int64, int64) {
	took := map[int]int64{}
	left := amount
	for _, i := range m.live(now, spendableOnly, first) {
		n := min(left, m.lots[i].remaining)
		m.lots[i].remaining -= n
		took[i] += n
		left -= n
	}
	m.total -= amount
	m.debt += left
	return took, left
}

func (m *model) balance(now time.Time) points.Balance {
	b := points.Balance{Debt: m.debt, Total: m.total}
	for _, l := range m.lots {
		if l.remaining > 0 && l.expires.After(now) {
			if l.available.After(now) {
				b.Pending += l.remaining
			} else {
				b.Available += l.remaining
			}
		}
	}
	b.Available -= m.debt
	return b
}

// EnvLongModel, set to anything, gives the model tests their long run (`make model`): the
// sequence counts the ledger was first proven with. Without it `make test` runs fewer, so
// that the package stays well inside CI's time on MariaDB; every kind of step, both
// programmes and the 24 simulated months are in either run, only the number of random
// sequences differs.
const EnvLongModel = "MEMBERGRAPH_TEST_LONG_MODEL"

// longModel reports whether the long run was asked for.
func longModel() bool { return os.Getenv(EnvLongModel) != "" }

// sequences is how many sequences to run on backend b: the flag's count if given (sqlite
// or mysql), else the long or the short default ({SQLite, MySQL}).
func sequences(b storetest.Backend, sqlite, mysql int, short, long [2]int) int {
	flagged, i := sqlite, 0
	if b.Name == "mysql" {
		flagged, i = mysql, 1
	}
	if flagged > 0 {
		return flagged
	}
	if longModel() {
		return long[i]
	}
	return short[i]
}

// TestLedgerModel runs random sequences of earn, spend, reverse, refund, expire and time
// passing over 24 simulated months, checking the real ledger against the model after every
// step.
func TestLedgerModel(t *testing.T) {
	for _, b := range storetest.Backends() {
		n := sequences(b, *sqliteSequences, *mysqlSequences, [2]int{60, 8}, [2]int{1000, 50})
		if testing.Short() {
			n = max(1, n/10)
		}
		t.Run(b.Name, func(t *testing.T) {
			steps, seed := runModelSequences(t, b, n, "m", "sequences", runSequence)
			t.Logf("%s: %d sequences, %d steps, all matched the model (first seed %d)", b.Name, n, steps, seed)
		})
	}
}

// runModelSequences opens backend b and runs n sequences of run over it, alternating
// between a programme without and one with a pending period, with seeds counting up from
// -points.seed (or the clock); each sequence's externalIds begin with prefix and its index.
// It returns the steps run counts and the first seed; a failing sequence stops the test
// with the flags that rerun it (-points.<backend>-<flag>=1).
func runModelSequences(t *testing.T, b storetest.Backend, n int, prefix, flagName string,
	run func(t *testing.T, db *store.DB, programID int, seed uint64, prefix string) int) (int, uint64) {
	db := storetest.Open(t, b)
	ctx := context.Background()
	progs := program.NewService(db.Client)
	var ids []int
	for _, pending := range []int{0, 7} {
		d := program.JDPreset()
		d.Key = fmt.Sprintf("p%d", pending)
		d.Rules.Earning.PendingDays = pending
		p, err := progs.Create(auth.SystemContext(ctx, 0), d)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	steps := 0
	for i := range n {
		s := seed + uint64(i)
		steps += run(t, db, ids[i%2], s, fmt.Sprintf("%s%d", prefix, i))
		if t.Failed() {
			t.Fatalf("sequence %d failed; rerun with -points.seed=%d -points.%s-%s=1", i, s, b.Name, flagName)
		}
	}
	return steps, seed
}

func runSequence(t *testing.T, db *store.DB, programID int, seed uint64, externalID string) int {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
	clk := clock.NewManual(start)
	ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
	evs := events.NewService(db.Client, ledger, 0)
	ctx := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleService, Subject: "model", ProgramID: programID})
	admin := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "model", ProgramID: programID})
	if _, err := memberpkg.NewService(db.Client, clk).Register(ctx, memberpkg.Registration{ExternalID: externalID, Channel: member.RegistrationChannelWEB}); err != nil {
		t.Fatal(err)
	}
	memberID := db.Client.Member.Query().Where(member.ExternalID(externalID)).OnlyIDX(ctx)
	prog := db.Client.Program.GetX(ctx, programID)
	loc, _ := time.LoadLocation(prog.TimeZone)
	m := newModel(prog.Rules, loc)
	end := start.AddDate(2, 0, 0)
	step := 0
	for ; clk.Now().Before(end); step++ {
		now := clk.Now()
		key := fmt.Sprintf("%s-%d", externalID, step)
		op := rng.IntN(100)
		switch {
		case op < 30: // an order
			var lines []payload.Line
			for j := range 1 + rng.IntN(3) {
				lines = append(lines, payload.Line{SKU: fmt.Sprintf("sku%d", j), Category: []string{"PHONES", "FOOD", "WHOLE_VEHICLES"}[rng.IntN(3)],
					PaidCents: int64(rng.IntN(300000)), ProductType: []string{"PHYSICAL", "PHYSICAL", "VIRTUAL"}[rng.IntN(3)]})
			}
			body := payload.Body{OrderID: "O" + key, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: lines}
			res := record(t, ctx, evs, events.Input{IdempotencyKey: key, ExternalID: externalID, Kind: payload.OrderCompleted, OccurredAt: now, Channel: "WEB", Body: body})
			var want int64
			for _, g := range points.Earn(m.r, points.Activity{Kind: payload.OrderCompleted, Channel: "WEB", Body: body}, points.Facts{}) {
				m.credit(now, now, g.Amount, g.FromOrder, body.OrderID, g.SKU)
				want += g.Amount
			}
			m.orders[body.OrderID] = lines
			if res.Status != events.Accepted || res.Outcome.Points != want {
				t.Fatalf("step %d order: %+v, want %d points", step, res, want)
			}
		case op < 40: // a daily check-in
			day := now.In(loc).Format("2006-01-02")
			res := record(t, ctx, evs, events.Input{IdempotencyKey: key, ExternalID: externalID, Kind: payload.CheckIn, OccurredAt: now, Channel: "APP"})
			var want int64
			if !m.checkIns[day] {
				want = m.r.Earning.CheckIn
				m.credit(now, now, want, false, "", "")
				m.checkIns[day] = true
			}
			if res.Status != events.Accepted || res.Outcome.Points != want {
				t.Fatalf("step %d check-in: %+v, want %d", step, res, want)
			}
		case op < 60: // a spend
			amount := int64(1 + rng.IntN(1500))
			purpose := points.Exchange
			orderCents := int64(0)
			if rng.IntN(2) == 0 {
				purpose, amount, orderCents = points.OrderDeduction, int64(1000*(1+rng.IntN(2))), int64(rng.IntN(100000))
			}
			spendable := m.spendable(now)
			ok := amount <= spendable
			if purpose == points.OrderDeduction {
				q := points.QuoteFor(m.r.Spending, 100, spendable, orderCents)
				ok = ok && spendable >= m.r.Spending.DeductionMinBalance && amount <= q.MaxPoints && orderCents > 0
			}
			res, err := ledger.Spend(ctx, points.SpendRequest{ExternalID: externalID, Points: amount, OrderAmountCents: orderCents, Purpose: purpose, IdempotencyKey: key})
			if !ok {
				if _, user := usererr.From(err); !user {
					t.Fatalf("step %d: spend of %d with %d spendable should be refused, got %v %+v", step, amount, spendable, err, res)
				}
				break
			}
			if err != nil {
				t.Fatalf("step %d: spend of %d with %d spendable: %v", step, amount, spendable, err)
			}
			took, _ := m.take(now, amount, true, nil)
			m.spends = append(m.spends, &mspend{key: key, took: took})
			// A replay changes nothing and answers the same entry.
			again, err := ledger.Spend(ctx, points.SpendRequest{ExternalID: externalID, Points: amount, OrderAmountCents: orderCents, Purpose: purpose, IdempotencyKey: key})
			if err != nil || !again.Replayed || again.Entry.ID != res.Entry.ID {
				t.Fatalf("step %d: replayed spend: %+v %v", step, again, err)
			}
		case op < 68 && len(m.spends) > 0: // cancel a spend
			sp := m.spends[rng.IntN(len(m.spends))]
			_, err := ledger.ReverseSpend(ctx, points.ReverseRequest{SpendIdempotencyKey: sp.key, IdempotencyKey: key})
			if sp.reversed {
				if ue, user := usererr.From(err); !user || ue[0].Code != usererr.FailedPrecondition {
					t.Fatalf("step %d: second reversal of %s: %v", step, sp.key, err)
				}
				break
			}
			if err != nil {
				t.Fatalf("step %d: reverse %s: %v", step, sp.key, err)
			}
			sp.reversed = true
			var incoming int64
			for i, n := range sp.took {
				m.lots[i].remaining += n
				incoming += n
			}
			m.total += incoming
			// Restored points pay any debt first, from the lots that expire first.
			pay := min(m.debt, incoming)
			left := pay
			for _, i := range m.live(now, false, nil) {
				n := min(left, m.lots[i].remaining)
				m.lots[i].remaining -= n
				left -= n
			}
			m.debt -= pay - left
		case op < 76 && len(m.orders) > 0: // a refund of one line
			var keys []string
			for k := range m.orders {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			order := keys[rng.IntN(len(keys))]
			line := m.orders[order][rng.IntN(len(m.orders[order]))]
			res := record(t, ctx, evs, events.Input{IdempotencyKey: key, ExternalID: externalID, Kind: payload.OrderRefunded, OccurredAt: now, Channel: "WEB",
				Body: payload.Body{OrderID: order, SKUs: []string{line.SKU}}})
			if m.refunded[order+"/"+line.SKU] {
				if res.Status != events.Rejected || res.Err.Code != usererr.FailedPrecondition {
					t.Fatalf("step %d: second refund: %+v", step, res)
				}
				break
			}
			m.refunded[order+"/"+line.SKU] = true
			var earned int64
			for _, g := range points.Earn(m.r, points.Activity{Kind: payload.OrderCompleted, Channel: "WEB", Body: payload.Body{OrderID: order, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: []payload.Line{line}}}, points.Facts{}) {
				if g.Kind == pointentry.KindPURCHASE {
					earned += g.Amount
				}
			}
			var debt int64
			if earned > 0 {
				_, debt = m.take(now, earned, false, func(l *mlot) bool { return l.order == order && l.sku == line.SKU })
			}
			if res.Status != events.Accepted || res.Outcome.Points != -earned || res.Outcome.DebtPoints != debt || res.Outcome.WithholdCents != debt {
				t.Fatalf("step %d refund of %d: %+v, want debt %d", step, earned, res, debt)
			}
		case op < 78: // the expiry job
			if _, err := ledger.Expire(context.Background(), programID, memberID, memberID+1); err != nil {
				t.Fatal(err)
			}
			for _, l := range m.lots {
				if !l.expires.After(now) && l.remaining > 0 {
					m.total -= l.remaining
					l.remaining = 0
				}
			}
		default: // time passes
			clk.Advance(time.Duration(1+rng.IntN(90*24)) * time.Hour)
		}
		check(t, admin, db, ledger, m, memberID, clk.Now(), step)
	}
	return step
}

func record(t *testing.T, ctx context.Context, s *events.Service, in events.Input) events.Result {
	t.Helper()
	res, err := s.Record(ctx, []events.Input{in})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// check compares the ledger with the model and proves the balance is the sum of entries.
func check(t *testing.T, ctx context.Context, db *store.DB, l *points.Ledger, m *model, memberID int, now time.Time, step int) {
	t.Helper()
	got, err := l.Balance(ctx, memberID)
	if err != nil {
		t.Fatal(err)
	}
	if want := m.balance(now); got != want {
		t.Fatalf("step %d at %s: ledger %+v, model %+v", step, now.Format(time.DateOnly), got, want)
	}
	var sums []struct {
		Sum int64 `json:"sum"`
	}
	err = db.Client.PointEntry.Query().Where(pointentry.MemberID(memberID)).
		Aggregate(func(s *sql.Selector) string { return "COALESCE(SUM(" + s.C(pointentry.FieldAmount) + "), 0) AS sum" }).Scan(ctx, &sums)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || sums[0].Sum != got.Total {
		t.Fatalf("step %d: entries sum to %v, account total %d", step, sums, got.Total)
	}
	var lotSum int64
	for _, lot := range db.Client.PointLot.Query().Where(pointlot.MemberID(memberID)).AllX(ctx) {
		lotSum += lot.Remaining
	}
	if lotSum-got.Debt != got.Total {
		t.Fatalf("step %d: lots %d − debt %d ≠ total %d", step, lotSum, got.Debt, got.Total)
	}
	within := 30 * 24 * time.Hour
	exp, err := l.Expiring(ctx, memberID, within)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, lot := range m.lots {
		if lot.remaining > 0 && lot.expires.After(now) && !lot.expires.After(now.Add(within)) {
			want += lot.remaining
		}
	}
	if exp != want {
		t.Fatalf("step %d: expiring within 30 days %d, model %d", step, exp, want)
	}
}

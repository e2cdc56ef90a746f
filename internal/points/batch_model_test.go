package points_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

var (
	sqliteBatchSequences = flag.Int("points.sqlite-batch-sequences", 0, "batch model-test sequences on SQLite (0: 2, or 5 with "+EnvLongModel+")")
	mysqlBatchSequences  = flag.Int("points.mysql-batch-sequences", 0, "batch model-test sequences on MySQL (0: 2, as with "+EnvLongModel+")")
)

// batchMembers is how many members one batch sequence spreads its events over: few, so
// that a batch of up to 100 events repeats each member many times.
const batchMembers = 5

// bmember is one member of a batch sequence with its model and what the model needs beyond
// the single-member test's: what each order line earned, and the days of mobile orders.
type bmember struct {
	ext    string
	id     int
	m      *model
	earned map[string]int64 // order/sku → purchase points
	mobile map[string]bool  // programme-local day of a mobile order
}

// TestLedgerModelBatches is the model test's batch mode: random events in random batches
// of 1–100 (orders on the web and the app, check-ins, refunds of lines known so far — also
// of orders in the same batch — and replays of keys sent before, in this batch or earlier)
// over a few members repeated within each batch, with spends, the expiry job and time
// passing between batches. Every event's result is checked against the model as it comes,
// and every member's ledger after every batch.
func TestLedgerModelBatches(t *testing.T) {
	for _, b := range storetest.Backends() {
		// Two sequences on each backend: one per programme (without and with a pending period).
		n := sequences(b, *sqliteBatchSequences, *mysqlBatchSequences, [2]int{2, 2}, [2]int{5, 2})
		if testing.Short() {
			n = max(1, n/4)
		}
		t.Run(b.Name, func(t *testing.T) {
			events, seed := runModelSequences(t, b, n, "b", "batch-sequences", runBatchSequence)
			t.Logf("%s: %d batch sequences, %d events, all matched the model (first seed %d)", b.Name, n, events, seed)
		})
	}
}

func runBatchSequence(t *testing.T, db *store.DB, programID int, seed uint64, prefix string) int {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
	clk := clock.NewManual(start)
	ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
	svc := events.NewService(db.Client, ledger, 0)
	ctx := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleService, Subject: "model", ProgramID: programID})
	admin := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "model", ProgramID: programID})
	prog := db.Client.Program.GetX(ctx, programID)
	loc, _ := time.LoadLocation(prog.TimeZone)
	var ms []*bmember
	for i := range batchMembers {
		ext := fmt.Sprintf("%s-m%d", prefix, i)
		if _, err := memberpkg.NewService(db.Client, clk).Register(ctx, memberpkg.Registration{ExternalID: ext, Channel: member.RegistrationChannelWEB}); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, &bmember{ext: ext, id: db.Client.Member.Query().Where(member.ExternalID(ext)).OnlyIDX(ctx),
			m:      newModel(prog.Rules, loc),
			earned: map[string]int64{}, mobile: map[string]bool{}})
	}
	var history []sentEvent // accepted events, for replays
	end := start.AddDate(2, 0, 0)
	// Time passes by up to 60 days a step. On MySQL, where a step costs several times what
	// it does on SQLite, the short run leaps up to 150 days: the same two years (expiry,
	// year ends, pending periods, refunds after a spend) in about a third of the steps.
	leapHours := 60 * 24
	if db.Dialect == dialect.MySQL && !longModel() {
		leapHours = 150 * 24
	}
	total, step := 0, 0
	for ; clk.Now().Before(end); step++ {
		now := clk.Now()
		switch op := rng.IntN(100); {
		case op < 55: // a batch
			size := 1 + rng.IntN(100)
			var in []events.Input
			var want []events.Result
			for k := range size {
				bm := ms[rng.IntN(len(ms))]
				key := fmt.Sprintf("%s-%d-%d", prefix, step, k)
				ev, res := nextEvent(rng, bm, key, now, loc, in, want, history)
				in, want = append(in, ev), append(want, res)
				if res.Status == events.Accepted {
					history = append(history, sentEvent{ev, res})
				}
			}
			got, err := svc.Record(ctx, in)
			if err != nil {
				t.Fatalf("step %d: batch of %d: %v", step, size, err)
			}
			for i := range in {
				g, w := got[i], want[i]
				if g.Status != w.Status || g.Outcome != w.Outcome || (w.Err != nil) != (g.Err != nil) || w.Err != nil && g.Err.Code != w.Err.Code {
					t.Fatalf("step %d, event %d of %d (%s %s of %s): got %+v (err %+v), model %+v (err %+v)",
						step, i, size, in[i].Kind, in[i].IdempotencyKey, in[i].ExternalID, g, g.Err, w, w.Err)
				}
			}
			total += size
		case op < 60 && len(recent(history, now)) > 0: // a whole earlier event again: a replay
			h := recent(history, now)[rng.IntN(len(recent(history, now)))]
			got, err := svc.Record(ctx, []events.Input{h.in})
			if err != nil || got[0].Status != events.Duplicate || got[0].Outcome != h.want.Outcome {
				t.Fatalf("step %d: replay of %s: %+v %v, want DUPLICATE %+v", step, h.in.IdempotencyKey, got, err, h.want.Outcome)
			}
		case op < 75: // a spend of a random member
			bm := ms[rng.IntN(len(ms))]
			amount := int64(1 + rng.IntN(1500))
			spendable := bm.m.spendable(now)
			_, err := ledger.Spend(ctx, points.SpendRequest{ExternalID: bm.ext, Points: amount, Purpose: points.Exchange,
				IdempotencyKey: fmt.Sprintf("%s-spend-%d", prefix, step)})
			if amount > spendable {
				if _, user := usererr.From(err); !user {
					t.Fatalf("step %d: spend of %d with %d spendable should be refused, got %v", step, amount, spendable, err)
				}
				break
			}
			if err != nil {
				t.Fatalf("step %d: spend of %d with %d spendable: %v", step, amount, spendable, err)
			}
			bm.m.take(now, amount, true, nil)
		case op < 78: // the expiry job
			if _, err := ledger.Expire(context.Background(), programID, 0, 0); err != nil {
				t.Fatal(err)
			}
			for _, bm := range ms {
				for _, l := range bm.m.lots {
					if !l.expires.After(now) && l.remaining > 0 {
						bm.m.total -= l.remaining
						l.remaining = 0
					}
				}
			}
		default: // time passes
			clk.Advance(time.Duration(1+rng.IntN(leapHours)) * time.Hour)
		}
		for _, bm := range ms {
			check(t, admin, db, ledger, bm.m, bm.id, clk.Now(), step)
		}
	}
	return total
}

// sentEvent is an event accepted before and its answer.
type sentEvent struct {
	in   events.Input
	want events.Result
}

// recent are the events of history that occurred within 300 days of now: older ones may lie
// before the event horizon, which validation refuses before it looks for a replay.
func recent(history []sentEvent, now time.Time) []sentEvent {
	i, _ := slices.BinarySearchFunc(history, now.AddDate(0, 0, -300), func(e sentEvent, t time.Time) int { return e.in.OccurredAt.Compare(t) })
	return history[i:]
}

// nextEvent draws the next event of a batch for bm and works out, on the model, what it
// must answer; before and answered are the batch so far, history the events accepted before.
func nextEvent(rng *rand.Rand, bm *bmember, key string, now time.Time, loc *time.Location,
	before []events.Input, answered []events.Result, history []sentEvent) (events.Input, events.Result) {
	m := bm.m
	res := events.Result{IdempotencyKey: key, Status: events.Accepted}
	op := rng.IntN(100)
	switch {
	case op < 5 && len(before) > 0: // a key of this batch again, same event
		i := rng.IntN(len(before))
		first := answered[i]
		if first.Status == events.Accepted {
			return before[i], events.Result{IdempotencyKey: before[i].IdempotencyKey, Status: events.Duplicate, Outcome: first.Outcome}
		}
	case op < 8 && len(recent(history, now)) > 0: // an earlier key for a different event
		h := recent(history, now)[rng.IntN(len(recent(history, now)))]
		ev := h.in
		ev.Channel = map[string]string{"WEB": "MINI_PROGRAM", "APP": "WEB", "MINI_PROGRAM": "WEB"}[ev.Channel]
		return ev, events.Result{IdempotencyKey: ev.IdempotencyKey, Status: events.Rejected, Err: &usererr.Error{Code: usererr.Conflict}}
	case op < 30 && len(m.orders) > 0: // a refund of one line, maybe refunded already
		var keys []string
		for k := range m.orders {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		order := keys[rng.IntN(len(keys))]
		line := m.orders[order][rng.IntN(len(m.orders[order]))]
		ev := events.Input{IdempotencyKey: key, ExternalID: bm.ext, Kind: payload.OrderRefunded, OccurredAt: now, Channel: "WEB",
			Body: payload.Body{OrderID: order, SKUs: []string{line.SKU}}}
		if m.refunded[order+"/"+line.SKU] {
			return ev, events.Result{IdempotencyKey: key, Status: events.Rejected, Err: &usererr.Error{Code: usererr.FailedPrecondition}}
		}
		m.refunded[order+"/"+line.SKU] = true
		earned := bm.earned[order+"/"+line.SKU]
		var debt int64
		if earned > 0 {
			_, debt = m.take(now, earned, false, func(l *mlot) bool { return l.order == order && l.sku == line.SKU })
		}
		res.Outcome = payload.Outcome{Points: -earned, DebtPoints: debt, WithholdCents: debt}
		return ev, res
	case op < 45: // a daily check-in
		day := now.In(loc).Format("2006-01-02")
		ev := events.Input{IdempotencyKey: key, ExternalID: bm.ext, Kind: payload.CheckIn, OccurredAt: now, Channel: "APP"}
		if !m.checkIns[day] {
			m.credit(now, now, m.r.Earning.CheckIn, false, "", "")
			res.Outcome.Points = m.r.Earning.CheckIn
			m.checkIns[day] = true
		}
		return ev, res
	}
	// An order, on the web or in the app, 1–3 lines.
	var lines []payload.Line
	for j := range 1 + rng.IntN(3) {
		lines = append(lines, payload.Line{SKU: fmt.Sprintf("sku%d", j), Category: []string{"PHONES", "FOOD", "WHOLE_VEHICLES"}[rng.IntN(3)],
			PaidCents: int64(rng.IntN(300000)), ProductType: []string{"PHYSICAL", "PHYSICAL", "VIRTUAL"}[rng.IntN(3)]})
	}
	channel := []string{"WEB", "APP"}[rng.IntN(2)]
	body := payload.Body{OrderID: "O" + key, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: lines}
	day := now.In(loc).Format("2006-01-02")
	facts := points.Facts{AlreadyRewarded: channel == "APP" && bm.mobile[day]}
	for _, g := range points.Earn(m.r, points.Activity{Kind: payload.OrderCompleted, Channel: channel, Body: body}, facts) {
		m.credit(now, now, g.Amount, g.FromOrder, body.OrderID, g.SKU)
		res.Outcome.Points += g.Amount
		if g.FromOrder && m.r.Earning.PendingDays > 0 {
			res.Outcome.PendingPoints += g.Amount
		}
		if g.Kind == pointentry.KindPURCHASE {
			bm.earned[body.OrderID+"/"+g.SKU] += g.Amount
		}
	}
	if channel == "APP" {
		bm.mobile[day] = true
	}
	m.orders[body.OrderID] = lines
	return events.Input{IdempotencyKey: key, ExternalID: bm.ext, Kind: payload.OrderCompleted, OccurredAt: now, Channel: channel, Body: body}, res
}

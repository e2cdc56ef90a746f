package events_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

// counter is a database whose every statement is counted, through a driver wrapper.
type counter struct {
	mu         sync.Mutex
	statements []string
	db         *store.DB
	client     *ent.Client
	clk        *clock.Manual
	svc        *events.Service
	ctx        context.Context
}

func newCounter(t *testing.T, db *store.DB) *counter {
	t.Helper()
	c := &counter{db: db, clk: clock.NewManual(time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC))}
	drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(_ context.Context, v ...any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.statements = append(c.statements, fmt.Sprint(v...))
	})
	c.client = ent.NewClient(ent.Driver(drv))
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, err := progs.IDByKey(ctx, program.PresetKey)
	if err != nil {
		t.Fatal(err)
	}
	c.ctx = auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "test", ProgramID: pid})
	ledger := points.NewLedger(c.client, db.Dialect, c.clk, plus.NewChecker(c.client))
	// A programme's catalogue is read by its first batch and kept (catalogue.go); an hour's
	// TTL keeps a slow run from reading it again between the batches it compares.
	c.svc = events.NewServiceWith(c.client, ledger, events.Config{CatalogueTTL: time.Hour})
	return c
}

func (c *counter) register(t *testing.T, ext string) {
	t.Helper()
	if _, err := memberpkg.NewService(c.db.Client, c.clk).Register(c.ctx, memberpkg.Registration{ExternalID: ext, Channel: member.RegistrationChannelWEB}); err != nil {
		t.Fatal(err)
	}
}

// record sends a batch, checks every event is accepted and returns how many statements it took.
func (c *counter) record(t *testing.T, in []events.Input) int {
	t.Helper()
	c.mu.Lock()
	c.statements = nil
	c.mu.Unlock()
	res, err := c.svc.Record(c.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != events.Accepted {
			t.Fatalf("event %d: %+v", i, r)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.statements)
}

func threeLines(key, ext, orderID string, at time.Time) events.Input {
	return events.Input{IdempotencyKey: key, ExternalID: ext, Kind: payload.OrderCompleted, OccurredAt: at, Channel: "WEB",
		Body: payload.Body{OrderID: orderID, OrderType: "NORMAL", PaymentMethod: "CASH", Lines: []payload.Line{
			{SKU: "a", Category: "PHONES", PaidCents: 129900, ProductType: "PHYSICAL"},
			{SKU: "b", Category: "BOOKS", PaidCents: 5800, ProductType: "PHYSICAL"},
			{SKU: "c", Category: "FOOD", PaidCents: 23000, ProductType: "PHYSICAL"}}}}
}

// TestBatchStatementsIndependentOfSize: a batch costs the same number of SQL statements
// however many events it holds — a 1-event and a 100-event batch of 3-line orders of new
// members take the same count, and so do their refunds and the reviews of their lines; the
// count of a hot member's 100 orders is that of one order of its.
func TestBatchStatementsIndependentOfSize(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		for i := range 101 {
			c.register(t, fmt.Sprintf("m%03d", i))
		}
		c.register(t, "hot")
		c.register(t, "warm")
		now := c.clk.Now()
		// The programme's first batch reads its rules, medals and benefit ids (three
		// statements) for the batches after it: what is compared is a batch after the first.
		c.record(t, []events.Input{threeLines("warm", "warm", "OWARM", now)})
		batch := func(prefix string, members []int, kind payload.Kind) []events.Input {
			var in []events.Input
			for _, m := range members {
				ext := fmt.Sprintf("m%03d", m)
				ev := threeLines(fmt.Sprintf("%s-%d", prefix, m), ext, "O"+ext, now)
				switch kind {
				case payload.OrderRefunded:
					ev.Kind, ev.Body = kind, payload.Body{OrderID: "O" + ext, SKUs: []string{"a", "c"}}
				case payload.ReviewPosted:
					ev.Kind, ev.Body = kind, payload.Body{OrderID: "O" + ext, SKUs: []string{"b"}}
				}
				in = append(in, ev)
			}
			return in
		}
		hundred := make([]int, 100)
		for i := range hundred {
			hundred[i] = i + 1
		}
		for _, kind := range []payload.Kind{payload.OrderCompleted, payload.ReviewPosted, payload.OrderRefunded} {
			one := c.record(t, batch("k"+string(kind), []int{0}, kind))
			many := c.record(t, batch("k"+string(kind), hundred, kind))
			if one != many {
				t.Errorf("%s: 1 event took %d statements, 100 events of 100 members %d:\n%s", kind, one, many, c.statementsOf())
			}
			t.Logf("%s: %d statements for 1 event and for 100", kind, one)
		}
		var hot []events.Input
		for i := range 100 {
			hot = append(hot, threeLines(fmt.Sprintf("hot-%d", i), "hot", fmt.Sprintf("H%d", i), now))
		}
		first := c.record(t, hot[:1])
		// The 99 orders reach the medal level whose coupon the benefit claims grant, one
		// order does not: the one statement that may differ.
		got := c.record(t, hot[1:])
		if strings.Contains(c.statementsOf(), "INSERT INTO `benefit_claims`") {
			got--
		}
		if got != first {
			t.Errorf("a hot member: 1 order took %d statements, 99 more orders %d (without the claims):\n%s", first, got, c.statementsOf())
		}
		// 17 (2 before the transaction, 13 in it, begin and commit) plus the outbox's one
		// multi-row INSERT of the slice's messages.
		if first > 18 {
			t.Errorf("an order batch took %d statements, want at most 18", first)
		}
	})
}

// statementsOf is for debugging a count: the statements of the last batch, one a line.
func (c *counter) statementsOf() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.statements, "\n")
}

// TestBatchSeesCatalogueChange: a programme's rules kept between batches (catalogue.go) are
// read again once a change to them commits through the service's client, however long the
// TTL. Worked from the JD preset: a 3-line order (¥1299 PHONES, ¥58 BOOKS, ¥230 FOOD, 10 %
// of the yuan floored per line) earns 129 + 5 + 23 = 157; with PHONES excluded from earning
// the same order earns 5 + 23 = 28.
func TestBatchSeesCatalogueChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		c.register(t, "m")
		now := c.clk.Now()
		earned := func(key string) int64 {
			res, err := c.svc.Record(c.ctx, []events.Input{threeLines(key, "m", "O"+key, now)})
			if err != nil || res[0].Status != events.Accepted {
				t.Fatalf("%s: %+v %v", key, res, err)
			}
			return res[0].Outcome.Points
		}
		if got := earned("before"); got != 157 {
			t.Fatalf("before the change: %d points, want 157", got)
		}
		v, _ := auth.FromContext(c.ctx)
		prog := c.client.Program.GetX(c.ctx, v.ProgramID)
		r := prog.Rules
		r.Earning.ExcludedCategories = append(slices.Clone(r.Earning.ExcludedCategories), "PHONES")
		if err := c.client.Program.UpdateOneID(prog.ID).SetRules(r).Exec(auth.SystemContext(context.Background(), prog.ID)); err != nil {
			t.Fatal(err)
		}
		if got := earned("after"); got != 28 {
			t.Fatalf("after PHONES was excluded: %d points, want 28", got)
		}
	})
}

// TestSameKeyRacingMembers: two batches racing with one idempotency key for two different
// members are two transactions that cannot see each other's key until one commits: the
// loser meets the unique index, is retried, and answers CONFLICT (the key was used for a
// different event); exactly one of the two is accepted, and neither batch fails.
func TestSameKeyRacingMembers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		c.register(t, "a")
		c.register(t, "b")
		now := c.clk.Now()
		for round := range 10 {
			key := fmt.Sprintf("race-%d", round)
			var wg sync.WaitGroup
			res := make([][]events.Result, 2)
			errs := make([]error, 2)
			for i, ext := range []string{"a", "b"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i], errs[i] = c.svc.Record(c.ctx, []events.Input{threeLines(key, ext, fmt.Sprintf("O%s-%d", ext, round), now)})
				}()
			}
			wg.Wait()
			accepted, conflicts := 0, 0
			for i := range res {
				if errs[i] != nil {
					t.Fatalf("round %d: batch %d failed: %v", round, i, errs[i])
				}
				switch r := res[i][0]; {
				case r.Status == events.Accepted:
					accepted++
				case r.Status == events.Rejected && r.Err.Code == usererr.Conflict:
					conflicts++
				default:
					t.Fatalf("round %d: batch %d answered %+v", round, i, r)
				}
			}
			if accepted != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d accepted and %d conflicts, want one of each", round, accepted, conflicts)
			}
		}
	})
}

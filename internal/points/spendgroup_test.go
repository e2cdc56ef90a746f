package points_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

// spendAnswer is one spend's answer from a group.
type spendAnswer struct {
	res points.Result
	err error
}

// spendAsGroup sends reqs to ledger so that they wait behind one leader in this order and
// are then carried out as one group (the leader holds until all have queued), and returns
// their answers in order.
func spendAsGroup(t *testing.T, ctx context.Context, ledger *points.Ledger, reqs []points.SpendRequest) []spendAnswer {
	t.Helper()
	hold := make(chan struct{})
	points.SetBeforeGroup(ledger, func() { <-hold })
	defer points.SetBeforeGroup(ledger, nil)
	out := make([]spendAnswer, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { out[i].res, out[i].err = ledger.Spend(ctx, r) })
		// The next one is sent only once this one waits: the queue's order is reqs'.
		for deadline := time.Now().Add(10 * time.Second); points.WaitingSpends(ledger) < i+1; time.Sleep(100 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatalf("spend %d never queued", i)
			}
		}
	}
	close(hold)
	wg.Wait()
	return out
}

// groupFixture registers member "a" with two lots: 300 points granted in 2026 and 200 in
// 2027 (each lapses at the end of the year after next, so the 2026 lot lapses first), the
// clock then in March 2027. statements counts the transactions of the ledger it returns.
func groupFixture(t *testing.T, db *store.DB) (svc context.Context, ledger *points.Ledger, statements *lockedStatements) {
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	clk := clock.NewManual(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC))
	svc = auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "t", ProgramID: pid})
	admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "t", ProgramID: pid})
	if _, err := memberpkg.NewService(db.Client, clk).Register(svc, memberpkg.Registration{ExternalID: "a", Channel: member.RegistrationChannelAPP}); err != nil {
		t.Fatal(err)
	}
	plain := points.NewLedger(db.Client, db.Dialect, clk, nil)
	if _, err := plain.Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 300, Reason: "opening balance", IdempotencyKey: "open-1"}); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2027, 3, 1, 4, 0, 0, 0, time.UTC))
	if _, err := plain.Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 200, Reason: "second grant", IdempotencyKey: "open-2"}); err != nil {
		t.Fatal(err)
	}
	statements = &lockedStatements{}
	return svc, points.NewLedger(statements.client(db), db.Dialect, clk, nil), statements
}

// TestSpendGroupHandWorked: eleven spends of one member carried out as one group, with keys
// repeated inside the group and keys recorded before it. Before the group the member has
// 500 points (lots of 300, lapsing first, and 200), spends "pre" (20: the 300 lot → 280) and
// is refused "pre-refused" (10,000 of 480). The group, in order:
//
//	k1 120            applied: 280 → 160 in the first lot        balance 360
//	k2 200            applied: 160 from the first, 40 from the second (200 → 160)   160
//	k1 120 again      the replay of k1's entry                   160
//	k3 250            refused, FAILED_PRECONDITION "insufficient points: 160 spendable"
//	k3 250 again      the same refusal
//	k1 10             CONFLICT at input.idempotencyKey (another body)
//	pre 20 again      the replay of pre's entry                  160
//	pre-refused again its recorded refusal "insufficient points: 480 spendable"
//	k4 160            applied: the second lot 160 → 0            0
//	k5 1              refused "insufficient points: 0 spendable"
//	k2 200 again      the replay of k2's entry                   0
//
// So each key took effect once: the ledger holds 300 + 200 − 20 − 120 − 200 − 160 = 0 in
// six entries, the account says 0, both lots are empty, and k2 has two allocations (160,
// 40). The refusals are kept: k3 and k5 answer them again after the group. The group's
// transaction costs one statement per kind of row, however many spends it carries: the
// same count as a single spend plus the read of the replayed keys' entries.
func TestSpendGroupHandWorked(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc, ledger, statements := groupFixture(t, db)
		sp := func(key string, n int64) points.SpendRequest {
			return points.SpendRequest{ExternalID: "a", Points: n, Purpose: points.Exchange, IdempotencyKey: key}
		}
		pre, err := ledger.Spend(svc, sp("pre", 20))
		if err != nil || pre.Balance != 480 {
			t.Fatalf("pre: %+v, %v", pre, err)
		}
		if _, err := ledger.Spend(svc, sp("pre-refused", 10_000)); !isRefusal(err, usererr.FailedPrecondition, "input.points", "insufficient points: 480 spendable") {
			t.Fatalf("pre-refused: %v", err)
		}
		statements.take()

		asks := []points.SpendRequest{sp("k1", 120), sp("k2", 200), sp("k1", 120), sp("k3", 250), sp("k3", 250), sp("k1", 10),
			sp("pre", 20), sp("pre-refused", 10_000), sp("k4", 160), sp("k5", 1), sp("k2", 200)}
		got := spendAsGroup(t, svc, ledger, asks)
		st := statements.take()
		inserts := 0
		for _, s := range st {
			if strings.Contains(s, "INSERT INTO `point_entries`") || strings.Contains(s, `INSERT INTO "point_entries"`) {
				inserts++
			}
		}
		if inserts != 1 {
			t.Fatalf("%d entry INSERTs: the spends were not one group:\n%s", inserts, strings.Join(st, "\n"))
		}
		// The single spend's statements (TestSpendStatements) and one read of the entries
		// the replays of "pre" answer.
		if len(st) != maxSpendStatementsLocked+1 {
			t.Errorf("group of %d: %d statements, want %d:\n%s", len(asks), len(st), maxSpendStatementsLocked+1, strings.Join(st, "\n"))
		}

		applied := func(i int, balance int64, replayOf *points.Result) {
			t.Helper()
			a := got[i]
			switch {
			case a.err != nil:
				t.Errorf("ask %d (%s): %v", i, asks[i].IdempotencyKey, a.err)
			case a.res.Balance != balance || a.res.Entry == nil || a.res.Entry.Amount != -asks[i].Points:
				t.Errorf("ask %d (%s): %+v, want balance %d and an entry of -%d", i, asks[i].IdempotencyKey, a.res, balance, asks[i].Points)
			case replayOf == nil && a.res.Replayed, replayOf != nil && (!a.res.Replayed || a.res.Entry.ID != replayOf.Entry.ID):
				t.Errorf("ask %d (%s): replayed %v entry %d; want the replay of %+v", i, asks[i].IdempotencyKey, a.res.Replayed, a.res.Entry.ID, replayOf)
			}
		}
		refused := func(i int, code usererr.Code, field, msg string) {
			t.Helper()
			if !isRefusal(got[i].err, code, field, msg) {
				t.Errorf("ask %d (%s): %+v, %v; want %s at %s %q", i, asks[i].IdempotencyKey, got[i].res, got[i].err, code, field, msg)
			}
		}
		applied(0, 360, nil)
		applied(1, 160, nil)
		applied(2, 160, &got[0].res)
		refused(3, usererr.FailedPrecondition, "input.points", "insufficient points: 160 spendable")
		refused(4, usererr.FailedPrecondition, "input.points", "insufficient points: 160 spendable")
		refused(5, usererr.Conflict, "input.idempotencyKey", `idempotencyKey "k1" was used for a different request`)
		applied(6, 160, &pre)
		refused(7, usererr.FailedPrecondition, "input.points", "insufficient points: 480 spendable")
		applied(8, 0, nil)
		refused(9, usererr.FailedPrecondition, "input.points", "insufficient points: 0 spendable")
		applied(10, 0, &got[1].res)

		var sum, total, entries int64
		if err := db.SQL.QueryRow(`SELECT COALESCE(SUM(e.amount), 0), COUNT(*), a.total FROM point_accounts a
			JOIN point_entries e ON e.member_id = a.member_id GROUP BY a.total`).Scan(&sum, &entries, &total); err != nil {
			t.Fatal(err)
		}
		if sum != 0 || total != 0 || entries != 6 {
			t.Errorf("ledger sum %d in %d entries, account total %d; want 0 in 6, 0", sum, entries, total)
		}
		if lots := column(t, db, "SELECT remaining FROM point_lots ORDER BY expires_at, id"); fmt.Sprint(lots) != "[0 0]" {
			t.Errorf("lots %v, want [0 0]", lots)
		}
		if a := column(t, db, "SELECT amount FROM point_allocations WHERE entry_id = ? ORDER BY lot_id", got[1].res.Entry.ID); fmt.Sprint(a) != "[160 40]" {
			t.Errorf("k2's allocations %v, want [160 40]", a)
		}
		keys := column(t, db, "SELECT COUNT(*) FROM point_requests")
		refusals := column(t, db, "SELECT COUNT(*) FROM point_requests WHERE refusal_code = 'FAILED_PRECONDITION' AND refusal_field = 'input.points'")
		if fmt.Sprint(keys, refusals) != "[9] [3]" { // open-1, open-2, pre, pre-refused, k1–k5; pre-refused, k3, k5
			t.Errorf("%v keys stored, %v of them refusals; want 9 and 3", keys, refusals)
		}

		// After the group, alone: the refusals were kept, the entries too.
		if _, err := ledger.Spend(svc, sp("k3", 250)); !isRefusal(err, usererr.FailedPrecondition, "input.points", "insufficient points: 160 spendable") {
			t.Errorf("k3 after the group: %v", err)
		}
		if _, err := ledger.Spend(svc, sp("k5", 1)); !isRefusal(err, usererr.FailedPrecondition, "input.points", "insufficient points: 0 spendable") {
			t.Errorf("k5 after the group: %v", err)
		}
		if r, err := ledger.Spend(svc, sp("k4", 160)); err != nil || !r.Replayed || r.Entry.ID != got[8].res.Entry.ID || r.Balance != 0 {
			t.Errorf("k4 after the group: %+v, %v", r, err)
		}
	})
}

// TestSpendGroupRace: 120 spends of 30 points race on one member who has 1,000, through two
// ledgers (two processes: their groups meet on the account's row lock), each of 40 keys sent
// three times. Whatever the order, the first 33 keys decided take 990 points and the other 7
// are refused (30 > 10 left): 33 entries of −30 besides the opening, balance 10, and each
// key's three answers agree (the same entry, or the same refusal).
func TestSpendGroupRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "a")
		clk, svc, admin := w.clk, w.svc, w.admin
		ledgers := []*points.Ledger{points.NewLedger(db.Client, db.Dialect, clk, nil), points.NewLedger(db.Client, db.Dialect, clk, nil)}
		if _, err := ledgers[0].Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 1000, Reason: "opening balance", IdempotencyKey: "open"}); err != nil {
			t.Fatal(err)
		}
		// A leader pauses before it takes the queue, so that groups form; the largest queue
		// a leader met shows they did.
		var mu sync.Mutex
		largest := 0
		for _, l := range ledgers {
			points.SetBeforeGroup(l, func() {
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				largest = max(largest, points.WaitingSpends(l))
				mu.Unlock()
			})
		}
		const keys, sends = 40, 3
		answers := make([][sends]spendAnswer, keys)
		var wg sync.WaitGroup
		for k := range keys {
			for s := range sends {
				wg.Go(func() {
					r := points.SpendRequest{ExternalID: "a", Points: 30, Purpose: points.Exchange, IdempotencyKey: fmt.Sprintf("s-%d", k)}
					answers[k][s].res, answers[k][s].err = ledgers[(k+s)%2].Spend(svc, r)
				})
			}
		}
		wg.Wait()
		applied, refused := 0, 0
		for k, as := range answers {
			first := as[0]
			for s, a := range as {
				switch {
				case a.err != nil && !isRefusal(a.err, usererr.FailedPrecondition, "input.points", ""):
					t.Errorf("key %d send %d: %v", k, s, a.err)
				case (a.err == nil) != (first.err == nil):
					t.Errorf("key %d: answers disagree: %+v / %v and %+v / %v", k, first.res, first.err, a.res, a.err)
				case a.err == nil && (a.res.Entry.ID != first.res.Entry.ID || a.res.Balance < 0):
					t.Errorf("key %d: entries %d and %d, balance %d", k, first.res.Entry.ID, a.res.Entry.ID, a.res.Balance)
				}
			}
			if first.err == nil {
				applied++
			} else {
				refused++
			}
		}
		var sum, total, entries int64
		if err := db.SQL.QueryRow(`SELECT COALESCE(SUM(e.amount), 0), COUNT(*), a.total FROM point_accounts a
			JOIN point_entries e ON e.member_id = a.member_id GROUP BY a.total`).Scan(&sum, &entries, &total); err != nil {
			t.Fatal(err)
		}
		if applied != 33 || refused != 7 || sum != 10 || total != 10 || entries != 34 {
			t.Errorf("%d keys applied, %d refused; ledger %d in %d entries, account %d; want 33, 7, 10 in 34, 10", applied, refused, sum, entries, total)
		}
		if largest < 2 {
			t.Errorf("no leader met more than %d spends: no group formed", largest)
		}
		t.Logf("largest queue a leader took: %d", largest)
	})
}

// isRefusal: err is one refusal of code at field, with message msg unless msg is empty.
func isRefusal(err error, code usererr.Code, field, msg string) bool {
	list, ok := usererr.From(err)
	return ok && len(list) == 1 && list[0].Code == code && strings.Join(list[0].Field, ".") == field && (msg == "" || list[0].Message == msg)
}

// column reads one integer column.
func column(t *testing.T, db *store.DB, query string, args ...any) []int64 {
	t.Helper()
	rows, err := db.SQL.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestSpendGroupKeyTakenFallsBack: while a group of three spends of member "a" (100, 50 and
// 100 of 500) is decided, a spend of member "b" takes the middle one's key "x". The group's
// INSERT of its keys then fails on the unique key and the whole group is rolled back; its
// spends are carried out one by one instead: the first and the last take 100 each (a: 400,
// then 300), "x" is a CONFLICT (b's request holds it), and b keeps 450. Nothing is applied
// twice or lost: a's ledger holds 500 − 200 in four entries (two grants, two spends). MariaDB only: SQLite's one
// writer would wait for the group's transaction, which waits for it.
func TestSpendGroupKeyTakenFallsBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != "mysql" {
			t.Skip("needs row locks: another member's spend inside the group's transaction")
		}
		svc, ledger, _ := groupFixture(t, db)
		v, _ := auth.FromContext(svc)
		admin := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "t", ProgramID: v.ProgramID})
		if _, err := memberpkg.NewService(db.Client, clock.NewManual(time.Date(2027, 3, 1, 4, 0, 0, 0, time.UTC))).Register(svc,
			memberpkg.Registration{ExternalID: "b", Channel: member.RegistrationChannelAPP}); err != nil {
			t.Fatal(err)
		}
		other := points.NewLedger(db.Client, db.Dialect, ledger.Clock(), nil)
		if _, err := other.Adjust(admin, points.AdjustRequest{ExternalID: "b", Points: 500, Reason: "opening balance", IdempotencyKey: "open-b"}); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		points.SetBeforeGroupWrite(ledger, func() {
			once.Do(func() {
				if r, err := other.Spend(svc, points.SpendRequest{ExternalID: "b", Points: 50, Purpose: points.Exchange, IdempotencyKey: "x"}); err != nil || r.Balance != 450 {
					t.Errorf("b's spend under x: %+v, %v", r, err)
				}
			})
		})
		sp := func(key string, n int64) points.SpendRequest {
			return points.SpendRequest{ExternalID: "a", Points: n, Purpose: points.Exchange, IdempotencyKey: key}
		}
		got := spendAsGroup(t, svc, ledger, []points.SpendRequest{sp("g1", 100), sp("x", 50), sp("g2", 100)})
		if a := got[0]; a.err != nil || a.res.Replayed || a.res.Balance != 400 {
			t.Errorf("g1: %+v, %v; want a spend to 400", a.res, a.err)
		}
		if !isRefusal(got[1].err, usererr.Conflict, "input.idempotencyKey", "") {
			t.Errorf("x: %+v, %v; want CONFLICT at input.idempotencyKey", got[1].res, got[1].err)
		}
		if a := got[2]; a.err != nil || a.res.Replayed || a.res.Balance != 300 {
			t.Errorf("g2: %+v, %v; want a spend to 300", a.res, a.err)
		}
		sums := column(t, db, `SELECT SUM(e.amount) FROM point_entries e JOIN members m ON m.id = e.member_id GROUP BY m.external_id ORDER BY m.external_id`)
		counts := column(t, db, `SELECT COUNT(*) FROM point_entries e JOIN members m ON m.id = e.member_id GROUP BY m.external_id ORDER BY m.external_id`)
		totals := column(t, db, `SELECT a.total FROM point_accounts a JOIN members m ON m.id = a.member_id ORDER BY m.external_id`)
		if fmt.Sprint(sums, counts, totals) != "[300 450] [4 2] [300 450]" {
			t.Errorf("ledgers %v in %v entries, accounts %v; want a 300 in 4 (two grants, two spends), b 450 in 2", sums, counts, totals)
		}
	})
}

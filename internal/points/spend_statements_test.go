package points_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// maxSpendStatementsLocked bounds a spend taken from one lot inside the transaction that
// holds the member's account lock, the hot member's serial section (issue 14): the account
// (FOR UPDATE), the idempotency key, the spendable lots (read once: the check, the taking
// and the balance answered share them), the entry, the lot's update, the allocation, the
// account's update (neither update read back), the key's row and the points.changed outbox
// message. It was 13: the lots read three times, both updates read back. A group of spends
// of one member costs the same: each of these is one statement for all of its spends.
const maxSpendStatementsLocked = 9

// TestSpendStatements: one spend costs at most maxSpendStatementsLocked statements under the
// member's lock, counted through ent's debug driver, and takes from the lot that expires
// first. A replay of its key reads the account, the key, the entry and the lots, and writes
// nothing. A group of spends (spendgroup.go) costs what one spend costs, whatever its size.
func TestSpendStatements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, "a")
		clk, svc, admin := w.clk, w.svc, w.admin
		plain := points.NewLedger(db.Client, db.Dialect, clk, nil)
		// Two lots: 300 points granted in 2026 and 200 in 2027, which lapse a year later
		// (expiry counts years from the year earned).
		if _, err := plain.Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 300, Reason: "opening balance", IdempotencyKey: "open-1"}); err != nil {
			t.Fatal(err)
		}
		clk.Set(time.Date(2027, 3, 1, 4, 0, 0, 0, time.UTC))
		if _, err := plain.Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 200, Reason: "second grant", IdempotencyKey: "open-2"}); err != nil {
			t.Fatal(err)
		}

		var c lockedStatements
		ledger := points.NewLedger(c.client(db), db.Dialect, clk, nil)
		spend := points.SpendRequest{ExternalID: "a", Points: 120, Purpose: points.Exchange, IdempotencyKey: "spend-1"}
		res, err := ledger.Spend(svc, spend)
		if err != nil {
			t.Fatal(err)
		}
		single := c.take()
		if len(single) > maxSpendStatementsLocked {
			t.Errorf("spend: %d statements under the lock, want at most %d:\n%s", len(single), maxSpendStatementsLocked, strings.Join(single, "\n"))
		} else {
			t.Logf("spend: %d statements under the lock", len(single))
		}
		// 500 − 120: the 120 come from the 2026 lot, which lapses first (300 → 180).
		if res.Replayed || res.Balance != 380 || res.Entry.Amount != -120 {
			t.Errorf("spend: replayed %v, balance %d, entry %d; want a first spend, 380, -120", res.Replayed, res.Balance, res.Entry.Amount)
		}
		var lots []int64 // remainders, soonest to lapse first
		rows, err := db.SQL.QueryContext(ctx, "SELECT remaining FROM point_lots ORDER BY expires_at, id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r int64
			if err := rows.Scan(&r); err != nil {
				t.Fatal(err)
			}
			lots = append(lots, r)
		}
		rows.Close()
		if len(lots) != 2 || lots[0] != 180 || lots[1] != 200 {
			t.Errorf("lots after the spend %+v, want 180 then 200", lots)
		}

		again, err := ledger.Spend(svc, spend)
		if err != nil {
			t.Fatal(err)
		}
		st := c.take()
		for _, s := range st {
			_, q, _ := strings.Cut(s, "query=")
			if q = strings.ToUpper(q); strings.HasPrefix(q, "INSERT") || strings.HasPrefix(q, "UPDATE") || strings.HasPrefix(q, "DELETE") {
				t.Errorf("replay wrote: %s", s)
			}
		}
		if !again.Replayed || again.Balance != 380 || again.Entry.ID != res.Entry.ID {
			t.Errorf("replay: %+v, want the first spend's entry and 380", again)
		}

		// Five spends of 10 carried out as one group: the same statements as one spend, each
		// kind of row written once for all (380 → 370 … 330, all from the 2026 lot).
		var group []points.SpendRequest
		for i := range 5 {
			group = append(group, points.SpendRequest{ExternalID: "a", Points: 10, Purpose: points.Exchange, IdempotencyKey: fmt.Sprintf("group-%d", i)})
		}
		for i, a := range spendAsGroup(t, svc, ledger, group) {
			if a.err != nil || a.res.Replayed || a.res.Balance != 370-10*int64(i) {
				t.Errorf("group spend %d: %+v, %v; want balance %d", i, a.res, a.err, 370-10*i)
			}
		}
		if st := c.take(); len(st) != len(single) {
			t.Errorf("a group of 5 spends: %d statements under the lock, want %d as for one:\n%s", len(st), len(single), strings.Join(st, "\n"))
		}
	})
}

// lockedStatements records the statements a client sends inside its transactions, through
// ent's debug driver; a ledger's transaction is the one holding the member's account lock.
type lockedStatements struct {
	mu         sync.Mutex
	statements []string
}

func (c *lockedStatements) client(db *store.DB) *ent.Client {
	drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(_ context.Context, v ...any) {
		s := fmt.Sprint(v...)
		if !strings.HasPrefix(s, "Tx(") || !(strings.Contains(s, ").Exec") || strings.Contains(s, ").Query")) {
			return // outside a transaction, or its start and end
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.statements = append(c.statements, s)
	})
	return ent.NewClient(ent.Driver(drv))
}

// take returns the statements recorded since the last take.
func (c *lockedStatements) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.statements
	c.statements = nil
	return out
}

package points_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

// TestConcurrentSpendAndEarn has 32 goroutines spend from, earn into and reverse spends of
// the same four members, some racing with the same idempotency key. Afterwards every
// balance is its ledger's sum, no balance went below zero, and no key took effect twice.
func TestConcurrentSpendAndEarn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		progs := program.NewService(db.Client)
		if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
			t.Fatal(err)
		}
		pid, _ := progs.IDByKey(ctx, program.PresetKey)
		clk := clock.NewManual(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC))
		ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
		evs := events.NewService(db.Client, ledger, 0)
		svc := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "race", ProgramID: pid})
		admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "race", ProgramID: pid})
		members := []string{"a", "b", "c", "d"}
		for _, m := range members {
			if _, err := memberpkg.NewService(db.Client, clk).Register(svc, memberpkg.Registration{ExternalID: m, Channel: member.RegistrationChannelAPP}); err != nil {
				t.Fatal(err)
			}
			if _, err := ledger.Adjust(admin, points.AdjustRequest{ExternalID: m, Points: 5000, Reason: "opening balance", IdempotencyKey: "open-" + m}); err != nil {
				t.Fatal(err)
			}
		}
		const workers, ops = 32, 40
		var (
			mu       sync.Mutex
			spentBy  = map[string]int{} // spend key → entry id
			failures []string
		)
		fail := func(format string, args ...any) {
			mu.Lock()
			failures = append(failures, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				var mine []string
				for i := range ops {
					m := members[rng.IntN(len(members))]
					switch rng.IntN(4) {
					case 0:
						key := fmt.Sprintf("ord-%d-%d", w, i)
						_, err := evs.Record(svc, []events.Input{{IdempotencyKey: key, ExternalID: m, Kind: payload.OrderCompleted,
							OccurredAt: clk.Now(), Channel: "WEB", Body: payload.Body{OrderID: key, OrderType: "NORMAL", PaymentMethod: "CASH",
								Lines: []payload.Line{{SKU: "x", Category: "BOOKS", PaidCents: int64(5000 + rng.IntN(200000)), ProductType: "PHYSICAL"}}}}})
						if err != nil {
							fail("record: %v", err)
						}
					case 1, 2:
						// Workers w and w+16 share keys: the same spend raced from two places.
						key := fmt.Sprintf("spend-%d-%d", w%16, i)
						amount := int64(1 + (w%16+i)*37%900)
						target := members[(w%16+i)%len(members)]
						res, err := ledger.Spend(svc, points.SpendRequest{ExternalID: target, Points: amount, Purpose: points.Exchange, IdempotencyKey: key})
						if _, user := usererr.From(err); err != nil && !user {
							fail("spend: %v", err)
						}
						if err == nil {
							mu.Lock()
							if id, ok := spentBy[key]; ok && id != res.Entry.ID {
								failures = append(failures, fmt.Sprintf("key %s wrote entries %d and %d", key, id, res.Entry.ID))
							}
							spentBy[key] = res.Entry.ID
							mu.Unlock()
							mine = append(mine, key)
						}
						if err == nil && res.Balance < 0 {
							fail("balance %d after spend", res.Balance)
						}
					case 3:
						if len(mine) == 0 {
							continue
						}
						_, err := ledger.ReverseSpend(svc, points.ReverseRequest{SpendIdempotencyKey: mine[rng.IntN(len(mine))], IdempotencyKey: fmt.Sprintf("rev-%d-%d", w, i)})
						if _, user := usererr.From(err); err != nil && !user {
							fail("reverse: %v", err)
						}
					}
				}
			})
		}
		wg.Wait()
		for _, f := range failures {
			t.Error(f)
		}
		for _, m := range members {
			id := db.Client.Member.Query().Where(member.ExternalID(m)).OnlyIDX(admin)
			acct := db.Client.PointAccount.Query().Where(pointaccount.MemberID(id)).OnlyX(admin)
			var sum int64
			for _, e := range db.Client.PointEntry.Query().Where(pointentry.MemberID(id)).AllX(admin) {
				sum += e.Amount
			}
			bal, err := ledger.Balance(admin, id)
			if err != nil {
				t.Fatal(err)
			}
			if sum != acct.Total || bal.Total != sum || bal.Available < 0 || bal.Debt != 0 {
				t.Errorf("member %s: entries sum %d, account %d, balance %+v", m, sum, acct.Total, bal)
			}
			reversals := db.Client.PointEntry.Query().Where(pointentry.MemberID(id), pointentry.KindEQ(pointentry.KindSPEND_REVERSAL)).CountX(admin)
			t.Logf("member %s: balance %d from %d entries (%d reversals)", m, bal.Available, db.Client.PointEntry.Query().Where(pointentry.MemberID(id)).CountX(admin), reversals)
		}
		t.Logf("%d distinct spends succeeded", len(spentBy))
	})
}

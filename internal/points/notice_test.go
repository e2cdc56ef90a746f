package points_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestExpiringNotices: a member whose 100 adjusted points lapse in three days is told once
// that day (points.expiring, 100 points, the lot's expiry), however many runs, two of them at
// once; the next day once more; a member with no points lapsing is never told.
func TestExpiringNotices(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		progs := program.NewService(db.Client)
		if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
			t.Fatal(err)
		}
		pid, _ := progs.IDByKey(ctx, program.PresetKey)
		clk := clock.NewManual(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC))
		admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})
		for _, ext := range []string{"a", "b"} {
			if _, err := memberpkg.NewService(db.Client, clk).Register(admin, memberpkg.Registration{ExternalID: ext, Channel: member.RegistrationChannelAPP}); err != nil {
				t.Fatal(err)
			}
		}
		ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
		res, err := ledger.Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 100, Reason: "goodwill", IdempotencyKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		expires := *res.Entry.ExpiresAt
		clk.Set(expires.Add(-3 * 24 * time.Hour))

		count := func() (int, []points.Expiring) {
			msgs, err := db.Client.OutboxMessage.Query().Where(outboxmessage.EventType(outbox.PointsExpiring)).All(auth.SystemContext(ctx, 0))
			if err != nil {
				t.Fatal(err)
			}
			var out []points.Expiring
			for _, m := range msgs {
				var e points.Expiring
				_ = json.Unmarshal(m.Payload, &e)
				out = append(out, e)
			}
			return len(msgs), out
		}
		var wg sync.WaitGroup
		told := make([]int, 3)
		for i := range told {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := ledger.NotifyExpiring(ctx, pid, 7)
				if err != nil {
					t.Error(err)
				}
				told[i] = n
			}()
		}
		wg.Wait()
		if n, got := count(); n != 1 || told[0]+told[1]+told[2] != 1 || got[0].Points != 100 || !got[0].FirstAt.Equal(expires) || got[0].WithinDays != 7 {
			t.Fatalf("three runs told %v; outbox %d: %+v; want one notice of 100 points at %s", told, n, got, expires)
		}
		clk.Advance(24 * time.Hour)
		if n, err := ledger.NotifyExpiring(ctx, pid, 7); err != nil || n != 1 {
			t.Fatalf("the next day: %d, %v; want 1", n, err)
		}
		if n, _ := count(); n != 2 {
			t.Errorf("%d notices after two days, want 2", n)
		}
	})
}

package program_test

import (
	"context"
	"testing"

	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestEnsurePresetAddsPlusCatalogue: a database seeded before PLUS was served has the preset
// programme without PLUS's catalogue entries; the next start adds them, once.
func TestEnsurePresetAddsPlusCatalogue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := auth.SystemContext(context.Background(), 0)
		svc := program.NewService(db.Client)
		if created, err := svc.EnsurePreset(ctx, program.JDPreset()); err != nil || !created {
			t.Fatalf("first start: %v %v", created, err)
		}
		plusKeys := rules.JDPlusBenefits().Benefits
		// As an earlier version left it: no PLUS entries.
		if n, err := db.Client.Benefit.Delete().Where(benefit.KeyIn(plusKeys...)).Exec(ctx); err != nil || n != len(plusKeys) {
			t.Fatalf("deleting the PLUS entries: %d, %v", n, err)
		}
		for range 2 {
			if created, err := svc.EnsurePreset(ctx, program.JDPreset()); err != nil || created {
				t.Fatalf("a later start: %v %v", created, err)
			}
		}
		rows, err := db.Client.Benefit.Query().Where(benefit.KeyIn(plusKeys...)).All(ctx)
		if err != nil || len(rows) != len(plusKeys) {
			t.Fatalf("PLUS entries after two starts: %d, %v; want %d", len(rows), err, len(plusKeys))
		}
		for _, b := range rows {
			if b.Key == rules.PlusMonthlyCoupon && (b.FaceValueCents != 1000 || b.Quota != 4 || b.QuotaPeriod != benefit.QuotaPeriodMONTH) {
				t.Errorf("the coupon came back as %+v", b)
			}
		}
	})
}

package benchdata_test

import (
	"context"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/benchdata"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tier"
)

// TestSeededSettlement loads a small programme the way the settlement benchmark loads a
// million members and checks that settling it puts every member where the formula says.
func TestSeededSettlement(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		progs := program.NewService(db.Client)
		if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
			t.Fatal(err)
		}
		pid, _ := progs.IDByKey(ctx, program.PresetKey)
		loaded, err := benchdata.Scores(ctx, db, benchdata.ScoreSeed{ProgramID: pid, Members: 2500, Period: 202611, Seed: 1, Prefix: "b"})
		if err != nil {
			t.Fatal(err)
		}
		clk := clock.NewManual(time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC))
		svc := score.NewService(db.Client, clk, points.NewLedger(db.Client, db.Dialect, clk, nil), score.SettleConfig{PartitionSize: 700, ChunkSize: 300})
		st, err := svc.Settle(ctx, pid, 202611)
		if err != nil {
			t.Fatal(err)
		}
		if st.Members != 2500 || st.Partitions != 4 {
			t.Fatalf("settlement = %+v", st)
		}
		sys := auth.SystemContext(ctx, pid)
		ladder, _ := tier.Load(sys, db.Client)
		got := map[string]int{}
		for _, tr := range ladder {
			n, _ := db.Client.Member.Query().Where(member.TierID(tr.ID)).Count(sys)
			got[tr.Key] = n
		}
		for k, want := range loaded.Expected {
			if got[k] != want {
				t.Errorf("%s holds %d members, the formula says %d (all: %v vs %v)", k, got[k], want, got, loaded.Expected)
			}
		}
		t.Logf("tiers after settlement: %v; %d tier changes", got, st.TierChanges)
	})
}

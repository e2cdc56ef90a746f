package analytics_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/analytics"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/benchdata"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/tier"
)

// BenchmarkFigures times each figure on the database MEMBERGRAPH_BENCH_ANALYTICS_URL names
// (mysql://…, an existing, otherwise empty database; skipped when unset). The first run
// loads it — MEMBERGRAPH_BENCH_ANALYTICS_MEMBERS members (default 1,000,000) with the
// settlement benchmark's loader, then benchdata.AnalyticsSeed — and later runs reuse it.
// docs/benchmarks.md "Analytics" records the figures; the target is ≤ 2 s each.
func BenchmarkFigures(b *testing.B) {
	url := os.Getenv("MEMBERGRAPH_BENCH_ANALYTICS_URL")
	if url == "" {
		b.Skip("set MEMBERGRAPH_BENCH_ANALYTICS_URL=mysql://root@tcp(127.0.0.1:3306)/bench_analytics (see docs/benchmarks.md)")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		b.Fatal(err)
	}
	pid, err := progs.IDByKey(ctx, program.PresetKey)
	if err != nil {
		b.Fatal(err)
	}
	var members int
	if err := db.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM members WHERE program_id = ?", pid).Scan(&members); err != nil {
		b.Fatal(err)
	}
	if members == 0 {
		n := 1_000_000
		if v := os.Getenv("MEMBERGRAPH_BENCH_ANALYTICS_MEMBERS"); v != "" {
			if n, err = strconv.Atoi(v); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		if _, err := benchdata.Scores(ctx, db, benchdata.ScoreSeed{ProgramID: pid, Members: n, Period: formula.Month(202611), Seed: 1, Prefix: "bench-"}); err != nil {
			b.Fatal(err)
		}
		if err := benchdata.AnalyticsSeed(ctx, db, pid); err != nil {
			b.Fatal(err)
		}
		for _, t := range []string{"members", "member_scores", "member_medals", "point_lots", "point_accounts", "plus_terms"} {
			if _, err := db.SQL.ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("loaded %d members in %s", n, time.Since(start).Round(time.Second))
		members = n
	}
	clk := clock.NewManual(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	svc := analytics.New(db.Client, db.Dialect, clk)
	tiers := tier.NewService(db.Client, clk)
	ctx = auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "bench", ProgramID: pid})
	nov := analytics.Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for _, f := range []struct {
		name string
		run  func() error
	}{
		{"Penetration", func() error { _, err := svc.Penetration(ctx); return err }},
		{"Pyramid", func() error { _, err := svc.Pyramid(ctx); return err }},
		{"WhatIf", func() error { _, err := tiers.SimulateTable(ctx, []int64{0, 1500, 3000, 5000, 8000}); return err }},
		{"ScoreDistribution", func() error { _, err := svc.ScoreDistribution(ctx, analytics.DefaultBucketWidth); return err }},
		{"MedalLevels", func() error { _, err := svc.MedalLevelCounts(ctx); return err }},
		{"PointsLiability", func() error { _, err := svc.PointsLiability(ctx); return err }},
		{"PointsExpiringNextMonth", func() error { _, err := svc.ExpiringNextMonth(ctx); return err }},
		{"PlusConversion", func() error { _, err := svc.PlusConversion(ctx, "period", nov); return err }},
		{"PlusRenewal", func() error { _, err := svc.PlusRenewal(ctx, "period", nov); return err }},
	} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				if err := f.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(members), "members")
		})
	}
}

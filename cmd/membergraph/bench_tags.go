package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/tag"
	"github.com/membergraph/membergraph/internal/tag/cond"
	"github.com/membergraph/membergraph/internal/usererr"
)

// benchTags is docs/benchmarks.md "Tags and segments": five tag rules over the seed-scores
// members (spend, orders, score with real name, tiers or age, PLUS with recent orders), each
// evaluated for everyone, then a segment over two of the tags and a tier counted.
func benchTags(ctx context.Context, db *store.DB, programID int, period formula.Month, workers int) error {
	// The clock stands a day into the period, as after its settlement.
	clk := clock.NewManual(period.Start(time.UTC).Add(24 * time.Hour))
	tags := tag.NewService(db.Client, clk, db.Dialect, tag.Config{Workers: workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "bench", ProgramID: programID})
	n := func(v int64) *int64 { return &v }
	yes, no := true, false
	rules := []struct {
		key  string
		cond cond.Node
	}{
		{"bench-spend", cond.Node{Field: cond.Spend, Min: n(500), WindowMonths: 3}},
		{"bench-orders", cond.Node{Field: cond.Orders, Min: n(12), WindowMonths: 12}},
		{"bench-verified-silver", cond.Node{And: []cond.Node{{Field: cond.RealName, Flag: &yes}, {Field: cond.Score, Min: n(2500)}}}},
		{"bench-top-or-30", cond.Node{Or: []cond.Node{{Field: cond.Tier, Values: []string{"GOLD", "DIAMOND"}}, {Field: cond.Age, Min: n(30)}}}},
		{"bench-active-not-plus", cond.Node{And: []cond.Node{{Field: cond.Plus, Flag: &no}, {Field: cond.Orders, Min: n(1), WindowMonths: 1}}}},
	}
	for _, r := range rules {
		name := r.key
		if _, err := tags.CreateRule(admin, tag.RuleInput{Key: r.key, Name: &name, Condition: &r.cond}); err != nil {
			if l, ok := usererr.From(err); !ok || l[0].Code != usererr.AlreadyExists {
				return err
			}
		}
	}
	// The creations' own evaluations run in the background; the measured one is the full
	// re-evaluation that follows, rule after rule, as the daily run does it.
	tags.Wait()
	start := time.Now()
	if err := tags.EvaluateAll(admin, programID); err != nil {
		return err
	}
	took := time.Since(start)
	all, err := tags.Rules(admin)
	if err != nil {
		return err
	}
	fmt.Printf("re-evaluated %d tag rules for everyone in %s; peak RSS %d MiB, Go heap in use now %d MiB\n", len(all), took.Round(time.Millisecond), peakRSSMiB(), heapMiB())
	for _, r := range all {
		fmt.Printf("  %s: %d members\n", r.Key, r.Members)
	}
	segs := segment.NewService(db.Client, clk)
	filter := cond.Node{Or: []cond.Node{{Tag: "bench-spend"}, {And: []cond.Node{{Field: cond.Tier, Values: []string{"GOLD"}}, {Not: &cond.Node{Tag: "bench-orders"}}}}}}
	seg, err := segs.ByKey(admin, "bench-segment")
	if err != nil {
		if seg, err = segs.Create(admin, segment.Input{Key: "bench-segment", Name: "bench", Filter: filter}); err != nil {
			return err
		}
	}
	start = time.Now()
	count, err := segs.Count(admin, seg.ID)
	if err != nil {
		return err
	}
	fmt.Printf("segment count %d in %s\n", count, time.Since(start).Round(time.Millisecond))
	return nil
}

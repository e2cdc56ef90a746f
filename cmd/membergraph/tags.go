package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/tag"
)

const tagsUsage = `  evaluate   re-evaluate every tag rule for every member, in every programme (serve does it daily)`

func tagsCmd(ctx context.Context, args []string) error {
	return dispatch(ctx, "tags", tagsUsage, args, map[string]func(context.Context, []string) error{
		"evaluate": tagsEvaluate,
	})
}

// tagsEvaluate runs the daily evaluation once: the time-based conditions (age, days since
// the last order, RFM windows) move with the calendar, not with events. Safe beside serve
// and other runs: an evaluation is idempotent.
func tagsEvaluate(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("tags evaluate [flags]", `Re-evaluate every tag rule for every member of every programme, a member range at a
time; serve does it once a day. Safe beside serve and other runs.`)
	cfg.bindDatabase(fs)
	cfg.bindClockStart(fs)
	workers := fs.Int("workers", 2, "member ranges evaluated at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	clk, err := cfg.businessClock()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := tag.NewService(db.Client, clk, db.Dialect, tag.Config{Workers: *workers, Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))})
	start := time.Now()
	if err := svc.EvaluateEverywhere(ctx); err != nil {
		return err
	}
	fmt.Printf("%s: every tag rule re-evaluated in %s\n", db.Redacted, time.Since(start).Round(time.Millisecond))
	return nil
}

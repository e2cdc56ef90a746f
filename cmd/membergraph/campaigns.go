package main

import (
	"context"
	"fmt"

	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
)

const campaignsUsage = `Commands:
  campaigns run [flags]   run the campaigns whose schedule is due now (serve does it every --campaign-interval)`

// campaignsCmd dispatches the campaign subcommands; each parses its own flags.
func campaignsCmd(ctx context.Context, args []string) error {
	return dispatch(ctx, "campaigns", campaignsUsage, args, map[string]func(context.Context, []string) error{
		"run": campaignsRun,
	})
}

// campaignsRun runs the due schedules once, beside or instead of serve's job: a run a
// crash or another process left unfinished continues, and no member is hit twice in a run.
func campaignsRun(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("campaigns run [flags]", `Run every ACTIVE campaign whose schedule is due now (its date's run not finished), in
every programme; serve does it every --campaign-interval. Safe beside serve and other runs:
each member of a run is hit exactly once, also when a run is killed and started again.`)
	cfg.bindDatabase(fs)
	cfg.bindClockStart(fs)
	chunk := fs.Int("chunk", 500, "members per transaction")
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
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	svc := campaign.NewService(db.Client, ledger, segment.NewService(db.Client, clk), campaign.SegmentsByKey(db.Client),
		campaign.Config{Chunk: *chunk})
	st, err := svc.RunDue(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d campaign runs: %d members hit, %d skipped, %d failed, %d points\n",
		db.Redacted, st.Runs, st.Done, st.Skipped, st.Failed, st.Points)
	return nil
}

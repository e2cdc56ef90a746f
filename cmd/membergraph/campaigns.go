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
  campaigns run [flags]   run the campaigns whose schedule is due now and the EVENT campaigns of the events committed since the last read (serve does both continuously)`

// campaignsCmd dispatches the campaign subcommands; each parses its own flags.
func campaignsCmd(ctx context.Context, args []string) error {
	return dispatch(ctx, "campaigns", campaignsUsage, args, map[string]func(context.Context, []string) error{
		"run": campaignsRun,
	})
}

// campaignsRun runs the due schedules once, then reads the committed events for the EVENT
// campaigns to their end, beside or instead of serve's jobs: a run a crash or another
// process left unfinished continues, and no member is hit twice in a run.
func campaignsRun(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("campaigns run [flags]", `Run every ACTIVE campaign whose schedule is due now (its date's run not finished), in
every programme, then the EVENT campaigns of the events committed since they were last read
(the events table and the outbox: orders, tier changes, medal levels, PLUS terms); serve
does both continuously. Safe beside serve and other runs: each member of a run is hit
exactly once, also when a run is killed and started again. While serve reads the events
(it holds their lease), they are left to it; NOTIFY campaigns, which need the partner
plugins serve runs, are left to serve too.`)
	cfg.bindDatabase(fs)
	cfg.bindClockStart(fs)
	chunk := fs.Int("chunk", 500, "members per transaction")
	wait := fs.Duration("trigger-wait", 0, "how long to wait for the events' lease another process holds (it runs out --campaign-trigger-lease after that process died)")
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
	if st.Deferred > 0 {
		fmt.Printf("%d NOTIFY campaign runs left to serve, which runs the partner plugins\n", st.Deferred)
	}
	ts, err := svc.DrainTriggers(ctx, *wait)
	if err != nil {
		return err
	}
	fmt.Printf("event triggers: %d rows read, %d event runs\n", ts.Read, ts.Runs)
	if ts.Held != "" {
		fmt.Printf("event triggers: %s holds the lease and reads them; left to it\n", ts.Held)
	}
	if ts.Deferred > 0 {
		fmt.Println("event triggers: stopped at an event of a NOTIFY campaign, left to serve, which runs the partner plugins")
	}
	return nil
}

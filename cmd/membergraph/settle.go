package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
)

// settle settles a programme's scores for a period: the members with no score for it yet, or
// with --resettle every member of the latest period (audited, as the operating-system user).
// Several `settle` processes (and servers) may run the same period at once: they share its
// partitions.
func settle(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("settle [flags]", "Settle a programme's member scores of a month and deliver the upgrade gifts owed; serve does it each month.")
	cfg.bindDatabase(fs)
	cfg.bindProgram(fs, "key of the programme whose scores to settle")
	period := fs.String("period", "", "YYYY-MM; default: the month of the latest 1st in the programme's time zone")
	workers := fs.Int("workers", 2, "partitions this process settles at once")
	resettle := fs.Bool("resettle", false, "recompute every member's score of the latest period after a data fix or a rule change (audited)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	pid, err := program.NewService(db.Client).IDByKey(ctx, cfg.Program)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	clk := clock.System{}
	svc := score.NewService(db.Client, clk, points.NewLedger(db.Client, db.Dialect, clk, nil),
		score.SettleConfig{Workers: *workers, Logger: logger})
	var p formula.Month
	if *period != "" {
		if p, err = formula.ParseMonth(*period); err != nil {
			return err
		}
	} else {
		prog, err := db.Client.Program.Get(auth.SystemContext(ctx, pid), pid)
		if err != nil {
			return err
		}
		if p, err = svc.LatestPeriod(prog); err != nil {
			return err
		}
	}
	run := svc.Settle
	if *resettle {
		run = svc.Resettle
	}
	st, err := run(auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "cli:" + osUser(), ProgramID: pid}), pid, p)
	if err != nil {
		return err
	}
	gifts, err := svc.DeliverGifts(ctx, pid)
	if err != nil {
		return err
	}
	kind := "settlement"
	if st.Resettle {
		kind = "resettle"
	}
	fmt.Printf("%s: programme %s, period %s, run %d (%s): %s, %d members settled, %d tier changes, %d upgrade gifts delivered\n",
		db.Redacted, cfg.Program, p, st.Run, kind, st.Status, st.Members, st.TierChanges, gifts)
	return nil
}

// osUser names who ran the command, for the audit entry of a resettle.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

package main

import (
	"context"
	"fmt"

	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
)

const plusUsage = `Commands:
  plus expire [flags]   record the PLUS terms that have ended, now (serve does it every --plus-end-interval)
  plus codes  [flags]   issue a batch of PLUS redemption codes into a CSV file`

// plusCmd dispatches the PLUS subcommands; each parses its own flags.
func plusCmd(ctx context.Context, args []string) error {
	return dispatch(ctx, "plus", plusUsage, args, map[string]func(context.Context, []string) error{
		"expire": plusExpire,
		"codes":  plusCodes,
	})
}

// plusExpire records the term ends now. Benefits stop at a term's end instant without it;
// it writes the ends into the history and the metrics.
func plusExpire(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("plus expire [flags]", `Record every PLUS term whose end has passed, in every programme, now; serve does it
every --plus-end-interval. Benefits stop at a term's end instant whether or not this ran.`)
	cfg.bindDatabase(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	clk := clock.System{}
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	n, err := plus.NewService(db.Client, ledger).RecordEnds(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s: recorded the end of %d PLUS terms\n", db.Redacted, n)
	return nil
}

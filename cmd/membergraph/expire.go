package main

import (
	"context"
	"fmt"

	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
)

// expire writes off expired points now; the server also does so every --expiry-interval.
func expire(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("expire [flags]", `Write off the points whose expiry has passed, in every programme, now; serve does it
every --expiry-interval (balances are right between runs).`)
	cfg.bindDatabase(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := points.NewLedger(db.Client, db.Dialect, clock.System{}, nil).ExpireAll(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s: expired %d points of %d members\n", db.Redacted, st.Points, st.Members)
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/membergraph/membergraph/internal/store"
)

func migrate(ctx context.Context, args []string) error {
	var cfg config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.bind(fs, false)
	status := fs.Bool("status", false, "list the pending migrations instead of applying them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if *status {
		pending, err := db.Pending(ctx)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			fmt.Printf("%s: up to date\n", db.Redacted)
		}
		for _, v := range pending {
			fmt.Printf("%s: pending %s\n", db.Redacted, v)
		}
		return nil
	}
	applied, err := db.Migrate(ctx)
	for _, v := range applied {
		fmt.Printf("%s: applied %s\n", db.Redacted, v)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Printf("%s: up to date\n", db.Redacted)
	}
	return nil
}

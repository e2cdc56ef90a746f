package main

import (
	"context"
	"fmt"

	"github.com/membergraph/membergraph/internal/store"
)

func migrate(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("migrate [--status] [flags]", `Apply the database migrations this binary carries that the database lacks, in
order; serve does the same on start unless --migrate=false.`)
	cfg.bindDatabase(fs)
	status := fs.Bool("status", false, "list every migration, applied (with when) or pending, and change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if *status {
		all, err := db.Migrations(ctx)
		if err != nil {
			return err
		}
		pending := 0
		fmt.Printf("%s:\n", db.Redacted)
		for _, m := range all {
			if m.AppliedAt == "" {
				pending++
				fmt.Printf("  pending  %s  %s\n", m.Version, m.Name)
			} else {
				fmt.Printf("  applied  %s  %s  (%s)\n", m.Version, m.Name, m.AppliedAt)
			}
		}
		if pending == 0 {
			fmt.Printf("up to date: %d migrations applied\n", len(all))
		} else {
			fmt.Printf("%d of %d migrations pending: run membergraph migrate\n", pending, len(all))
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

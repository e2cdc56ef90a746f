package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/demo"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/store"
)

const demoSynopsis = `Load the demo members (demo-0001 on) with twelve months of activity before this month, sent
through the event path as the commerce back end would send it, and settle them, so tiers,
scores, medals, points and a debt are there to explore; demo-0001 is the README's member.
Serve does this by itself when it creates the programme on an empty database. The same
--seed in the same month loads the same data: a second run changes nothing; demo members of
another seed or month are refused. The database is migrated and the JD-style programme
created first when they are missing.`

// demoCmd loads the demo data.
func demoCmd(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("demo [flags]", demoSynopsis)
	cfg.bindDatabase(fs)
	cfg.bindProgram(fs, "key of the programme to load the demo members into")
	var dc demo.Config
	fs.IntVar(&dc.Members, "members", 300, fmt.Sprintf("how many demo members, 1–%d (the first two are scripted, the others drawn)", demo.MaxMembers))
	fs.Uint64Var(&dc.Seed, "seed", 1, "seed of the drawn members; a database holds the demo of one seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if dc.Members < 1 {
		return fmt.Errorf("--members must be 1–%d, got %d", demo.MaxMembers, dc.Members)
	}
	if err := dc.Check(); err != nil {
		return fmt.Errorf("--members: %w", err)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating %s: %w", db.Redacted, err)
	}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		return fmt.Errorf("seeding the JD-style programme: %w", err)
	}
	pid, err := progs.IDByKey(ctx, cfg.Program)
	if err != nil {
		return err
	}
	clk := clock.System{}
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := demo.Services{
		Members: member.NewService(db.Client, clk),
		Events:  events.NewService(db.Client, ledger, 0),
		Ledger:  ledger,
		Scores:  score.NewService(db.Client, clk, ledger, score.SettleConfig{Logger: logger}),
		Plus:    plus.NewService(db.Client, ledger),
	}
	s, err := demo.Load(ctx, db.Client, svc, pid, dc)
	if err != nil {
		return fmt.Errorf("loading the demo into %s: %w", db.Redacted, err)
	}
	fmt.Printf("%s, programme %s:\n", db.Redacted, cfg.Program)
	printDemo(os.Stdout, s)
	return nil
}

// serveDemo loads the default demo through the server's own services. A demo that fails
// to load is logged and the server starts without it: the demo is a convenience.
func serveDemo(ctx context.Context, srv graph.ServerConfig, programID int, logger *slog.Logger) error {
	logger.Info("empty database: loading the demo members (--no-demo to start empty)")
	s, err := demo.Load(ctx, srv.DB.Client, demo.Services{Members: srv.Members, Events: srv.Events, Ledger: srv.Ledger,
		Scores: srv.Scores, Plus: srv.Plus}, programID, demo.Config{})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logger.Error("demo members not loaded", "err", err)
		return nil
	}
	tiers := map[string]int{}
	for _, t := range s.Tiers {
		tiers[t.Key] = t.Members
	}
	logger.Info("loaded the demo members", "members", s.Members, "events", s.Events, "period", s.Period.String(),
		"tiers", tiers, "showcase", demo.ShowcaseMember, "elapsed", s.Elapsed.Round(time.Millisecond).String())
	return nil
}

// printDemo says what a demo load did and what the demo members hold.
func printDemo(w io.Writer, s demo.Summary) {
	fmt.Fprintf(w, "  demo of seed %d: %d members (%d registered now), %d events (%d accepted now, %d duplicates), %d points spends (%d taken now)\n",
		s.Config.Seed, s.Members, s.Registered, s.Events, s.Accepted, s.Events-s.Accepted, s.Spends, s.Spent)
	if st := s.Settlement; st != nil {
		fmt.Fprintf(w, "  settled %s: %s, %d members settled by this run, %d tier changes, %d upgrade gifts delivered\n",
			s.Period, st.Status, st.Members, st.TierChanges, s.Gifts)
	}
	var tiers []string
	for _, t := range s.Tiers {
		tiers = append(tiers, fmt.Sprintf("%s %d", t.Name, t.Members))
	}
	fmt.Fprintf(w, "  demo members per tier: %s\n", strings.Join(tiers, ", "))
	fmt.Fprintf(w, "  showcase member: %s; took %s\n", demo.ShowcaseMember, s.Elapsed.Round(10*time.Millisecond))
}

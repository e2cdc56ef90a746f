package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"syscall"
	"time"

	"github.com/membergraph/membergraph/internal/benchdata"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
)

const benchUsage = `membergraph bench seed-scores --members N --period YYYY-MM   load N synthetic members with 13 months of counters
membergraph bench settle --period YYYY-MM                      settle that period, timed, with peak memory
membergraph bench tags --period YYYY-MM                        evaluate 5 tag rules for everyone and count a segment, timed`

// bench runs the benchmarks of docs/benchmarks.md that need more data than a test: load in
// one process, measure in another, so the measured process's peak memory is its own.
func bench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("bench needs a benchmark:\n" + benchUsage)
	}
	var cfg config
	name := args[0]
	if isHelp(name) {
		name = "NAME"
	}
	fs := newFlagSet("bench "+name+" [flags]", benchUsage+"\n\nRun them on a database of their own: seed-scores loads synthetic members into it.")
	cfg.bindDatabase(fs)
	cfg.bindProgram(fs, "key of the programme to load into and settle")
	members := fs.Int("members", 1_000_000, "seed-scores: members to load")
	seed := fs.Uint64("seed", 1, "seed-scores: random seed")
	periodFlag := fs.String("period", "", "the settlement period, YYYY-MM (required)")
	workers := fs.Int("workers", 2, "settle: partitions settled at once")
	if isHelp(args[0]) {
		fs.Usage()
		return flag.ErrHelp
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	period, err := formula.ParseMonth(*periodFlag)
	if err != nil {
		return fmt.Errorf("--period: %w", err)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		return err
	}
	pid, err := progs.IDByKey(ctx, cfg.Program)
	if err != nil {
		return err
	}
	start := time.Now()
	switch args[0] {
	case "seed-scores":
		loaded, err := benchdata.Scores(ctx, db, benchdata.ScoreSeed{ProgramID: pid, Members: *members, Period: period, Seed: *seed,
			Prefix: fmt.Sprintf("bench%d-", *seed)})
		if err != nil {
			return err
		}
		fmt.Printf("loaded %d members and %d month rows in %s; after %s they should hold %v\n",
			loaded.Members, loaded.Months, time.Since(start).Round(time.Second), period, loaded.Expected)
	case "settle":
		// The business clock stands an hour into the period, as the monthly job would.
		clk := clock.NewManual(period.Start(time.UTC).Add(24 * time.Hour))
		svc := score.NewService(db.Client, clk, points.NewLedger(db.Client, db.Dialect, clk, nil),
			score.SettleConfig{Workers: *workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		st, err := svc.Settle(ctx, pid, period)
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Printf("settled %d members (%d tier changes, %d partitions) in %s: %.0f members/s; peak RSS %d MiB, Go heap in use now %d MiB\n",
			st.Members, st.TierChanges, st.Partitions, took.Round(time.Millisecond), float64(st.Members)/took.Seconds(), peakRSSMiB(), heapMiB())
		start = time.Now()
		gifts, err := svc.DeliverGifts(ctx, pid)
		if err != nil {
			return err
		}
		took = time.Since(start)
		fmt.Printf("then delivered %d upgrade gifts in %s: %.0f gifts/s\n", gifts, took.Round(time.Millisecond), float64(gifts)/took.Seconds())
	case "tags":
		return benchTags(ctx, db, pid, period, *workers)
	default:
		return fmt.Errorf("unknown benchmark %q:\n%s", args[0], benchUsage)
	}
	return nil
}

// peakRSSMiB is the process's peak resident set size (Linux reports KiB).
func peakRSSMiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Maxrss) / 1024
}

func heapMiB() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse >> 20
}

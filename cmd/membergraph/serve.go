package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/store"
)

func serve(ctx context.Context, args []string) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.bind(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	secret, devToken := cfg.AuthSecret, false
	if secret == "" {
		if cfg.Production {
			return errors.New("--production needs MEMBERGRAPH_AUTH_SECRET (at least 32 bytes)")
		}
		secret, devToken = auth.GenerateSecret(), true
	}
	signer, err := auth.NewSigner([]byte(secret), nil)
	if err != nil {
		return fmt.Errorf("MEMBERGRAPH_AUTH_SECRET: %w", err)
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.Migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrating %s: %w", db.Redacted, err)
		}
		if len(applied) > 0 {
			logger.Info("applied migrations", "versions", applied)
		}
	}
	programs := program.NewService(db.Client)
	if created, err := programs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		return fmt.Errorf("seeding the JD-style programme: %w", err)
	} else if created {
		logger.Info("empty database: created the JD-style programme", "program", program.PresetKey)
	}

	clk := clock.System{}
	ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
	scores := score.NewService(db.Client, clk, ledger, score.SettleConfig{Logger: logger})
	pid, err := programs.IDByKey(ctx, cfg.Program)
	if err != nil {
		return err
	}
	partners := partner.NewService(db.Client, ledger, pid, logger)
	plugins, err := startPlugins(ctx, cfg.PluginDir, partners, logger)
	if err != nil {
		return err
	}
	if plugins != nil {
		defer plugins.Close()
	}
	medals := medal.NewService(db.Client, ledger)
	srvCfg := graph.ServerConfig{
		DB:              db,
		Signer:          signer,
		Programs:        programs,
		Members:         member.NewService(db.Client, clk),
		Ledger:          ledger,
		Events:          events.NewService(db.Client, ledger, 0),
		Scores:          scores,
		Medals:          medals,
		Partners:        partners,
		Logger:          logger,
		DefaultProgram:  cfg.Program,
		Production:      cfg.Production,
		ComplexityLimit: cfg.ComplexityLimit,
		DepthLimit:      cfg.DepthLimit,
		MaxBodyBytes:    cfg.MaxBodyBytes,
	}
	if devToken {
		tok, err := signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Subject: "dev", TTL: 24 * time.Hour})
		if err != nil {
			return err
		}
		srvCfg.DevToken = tok
		fmt.Fprintf(os.Stderr, "\nWARNING: no MEMBERGRAPH_AUTH_SECRET set: using a secret generated for this run.\n"+
			"This is for development only; tokens stop working when the server restarts.\n"+
			"ADMIN token (also pre-filled in the playground for visitors on this machine):\n\n  Authorization: Bearer %s\n\n", tok)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (set --addr or MEMBERGRAPH_ADDR)", cfg.Addr, err)
	}
	httpSrv := &http.Server{
		Handler:           graph.NewServer(srvCfg),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("serving", "addr", ln.Addr().String(), "database", db.Redacted, "production", cfg.Production,
		"playground", !cfg.Production)
	if !cfg.Production {
		fmt.Fprintf(os.Stderr, "Playground: http://%s/\n", browsable(ln.Addr()))
	}

	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	go ledger.RunExpiry(jobs, cfg.ExpiryInterval, logger)
	go scores.RunSettlement(jobs, cfg.SettleInterval)
	go medals.RunReevaluation(jobs, cfg.MedalInterval, logger)
	go partners.RunReconciler(jobs, 30*time.Second)

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// browsable turns a listen address into one a browser on this machine can open.
func browsable(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/pluscode"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storeprog"
	"github.com/membergraph/membergraph/internal/tag"
	"github.com/membergraph/membergraph/internal/webhook"
)

const serveSynopsis = `Run the GraphQL API (POST /graphql), the playground (GET /, not with --production),
/healthz, /readyz and /metrics, and the background jobs (expiry, settlement, medals, campaigns).

The database file, the plugin directory and the state directory are resolved against the
working directory when relative; serve logs the absolute paths it uses. Without
MEMBERGRAPH_AUTH_SECRET (development only) tokens are signed with a secret kept in the state
directory (file dev-auth-secret, mode 0600), so they survive restarts and
'membergraph token' signs for this server; serve prints ADMIN, SERVICE and MEMBER tokens.`

func serve(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("serve [flags]", serveSynopsis)
	cfg.bindServe(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	clk, err := cfg.businessClock()
	if err != nil {
		return err
	}
	if cfg.Production && cfg.Webhooks.RetryFor < 24*time.Hour {
		return errors.New("--webhook-retry-for: at least 24h with --production (receivers may be down for a day)")
	}
	devSecret := cfg.AuthSecret == ""
	if devSecret && cfg.Production {
		return errors.New("--production needs MEMBERGRAPH_AUTH_SECRET (at least 32 bytes)")
	}
	if !devSecret && len(cfg.AuthSecret) < auth.MinSecretBytes {
		return fmt.Errorf("MEMBERGRAPH_AUTH_SECRET: %w", auth.ErrWeakSecret)
	}
	if _, err := cfg.codeHasher([]byte("checked before anything starts")); err != nil {
		return err // a code key too short; the derived one is always long enough
	}
	stateDir, err := cfg.stateDir()
	if err != nil {
		return fmt.Errorf("--state-dir: %w", err)
	}
	pluginDir, err := filepath.Abs(cfg.PluginDir)
	if err != nil {
		return fmt.Errorf("--plugin-dir: %w", err)
	}
	target, err := store.ParseURL(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if cfg.RequestTimeout <= 0 {
		return fmt.Errorf("--request-timeout (MEMBERGRAPH_REQUEST_TIMEOUT): want a positive duration, got %s", cfg.RequestTimeout)
	}
	if target.LockWait >= cfg.RequestTimeout {
		// The request would give up first and leave the statement waiting in the database.
		return fmt.Errorf("--request-timeout %s must exceed the database's lock wait %s (innodb_lock_wait_timeout in MEMBERGRAPH_DATABASE_URL)",
			cfg.RequestTimeout, target.LockWait)
	}
	corsOrigins, err := graph.ParseCORSOrigins(cfg.CORSOrigins)
	if err != nil {
		return fmt.Errorf("--cors-origins: %w", err)
	}

	// Listen before anything slow: a taken port fails now, not after migrations and plugin
	// starts. Until the server is assembled, requests are answered 503 "starting".
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (set --addr or MEMBERGRAPH_ADDR)", cfg.Addr, err)
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listening on %s: %w (set --metrics-addr or MEMBERGRAPH_METRICS_ADDR)", cfg.MetricsAddr, err)
		}
	}
	api, metricsGate := &gate{}, &gate{}
	httpSrv := newHTTPServer(api, logger, cfg.RequestTimeout)
	defer httpSrv.Close() // a start that fails below stops serving "starting"
	errc := make(chan error, 2)
	go func() { errc <- httpSrv.Serve(ln) }()
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = newHTTPServer(metricsGate, logger, cfg.RequestTimeout)
		defer metricsSrv.Close()
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	secret := []byte(cfg.AuthSecret)
	var secretFile string
	if devSecret { // made once the database answers: a start that fails leaves nothing behind
		var created bool
		if secret, secretFile, created, err = auth.DevSecret(stateDir); err != nil {
			return fmt.Errorf("development secret: %w (or set MEMBERGRAPH_AUTH_SECRET)", err)
		}
		if created {
			logger.Info("created the development secret", "file", secretFile)
		}
	}
	signer, err := auth.NewSigner(secret, nil)
	if err != nil {
		return fmt.Errorf("MEMBERGRAPH_AUTH_SECRET: %w", err)
	}
	signer.SetMaxTTL(cfg.TokenMaxTTL)
	if db.Created {
		logger.Warn("no database file: created a new, empty one; if you meant an existing one, check MEMBERGRAPH_DATABASE_URL and the working directory",
			"file", db.File)
	}
	logger.Info("starting", "version", buildVersion(), "database", db.Redacted, "database_file", db.File,
		"state_dir", stateDir, "plugin_dir", pluginDir)
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
	created, err := programs.EnsurePreset(ctx, program.JDPreset())
	if err != nil {
		return fmt.Errorf("seeding the JD-style programme: %w", err)
	} else if created {
		logger.Info("empty database: created the JD-style programme", "program", program.PresetKey)
	}

	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	plusTerms := plus.NewService(db.Client, ledger)
	scores := score.NewService(db.Client, clk, ledger, score.SettleConfig{Logger: logger})
	pid, err := programs.IDByKey(ctx, cfg.Program)
	if err != nil {
		return err
	}
	partners := partner.NewService(db.Client, ledger, pid, logger)
	// Partners grant PLUS terms (GrantPlus), and every term bundles the video VIP.
	partners.SetPlus(plusTerms)
	plusTerms.AddListener(partners.TermListener())
	plugins, err := startPlugins(ctx, pluginDir, filepath.Join(stateDir, "plugins"), partners, logger)
	if err != nil {
		return err
	}
	if plugins != nil {
		defer plugins.Close()
	}
	medals := medal.NewService(db.Client, ledger)
	codeHasher, err := cfg.codeHasher(secret)
	if err != nil {
		return err
	}
	campaigns := campaign.NewService(db.Client, ledger, segment.NewService(db.Client, clk), campaign.SegmentsByKey(db.Client),
		campaign.Config{ScheduleInterval: cfg.CampaignInterval, Trigger: cfg.CampaignTriggers})
	if plugins != nil {
		campaigns.SetNotifier(plugins) // NOTIFY campaigns send through the partner plugins
	}
	// An event batch re-tags the members it touched once it committed (internal/tag).
	tags := tag.NewService(db.Client, clk, db.Dialect, tag.Config{Logger: logger})
	eventsSvc := events.NewService(db.Client, ledger, 0)
	eventsSvc.AddCommitListener(tags.Touched)
	srvCfg := graph.ServerConfig{
		DB:              db,
		Signer:          signer,
		Programs:        programs,
		Members:         member.NewService(db.Client, clk),
		Ledger:          ledger,
		Events:          eventsSvc,
		Tags:            tags,
		Scores:          scores,
		Medals:          medals,
		Partners:        partners,
		Plus:            plusTerms,
		PlusCodes:       pluscode.NewService(db.Client, ledger, plusTerms, codeHasher),
		LiveUpdates:     outbox.FeedConfig{Poll: cfg.LivePoll},
		Stores:          storeprog.NewService(db.Client, ledger),
		Campaigns:       campaigns,
		Logger:          logger,
		DefaultProgram:  cfg.Program,
		Production:      cfg.Production,
		Console:         cfg.Console.mode(),
		ComplexityLimit: cfg.ComplexityLimit,
		DepthLimit:      cfg.DepthLimit,
		SelectionLimit:  cfg.SelectionLimit,
		MutationLimit:   cfg.MutationLimit,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		RequestTimeout:  cfg.RequestTimeout,
		CORSOrigins:     corsOrigins,
		Websocket:       graph.WebsocketConfig{MaxConnections: cfg.WSMaxConnections, MaxPerSubject: cfg.WSMaxPerSubject},
		Version:         buildVersion(),
		Metrics:         metricsExposure(cfg),
	}
	var devTokens []devToken
	if devSecret {
		if devTokens, err = issueDevTokens(signer); err != nil {
			return err
		}
		srvCfg.DevToken = devTokens[0].token
	}
	// Before the API opens and the settlement job starts: the demo settles its own members.
	if created && !cfg.NoDemo && !cfg.Production {
		if err := serveDemo(ctx, srvCfg, pid, logger); err != nil {
			return err
		}
	}

	srv := graph.NewServer(srvCfg)
	api.open(srv)
	metricsGate.open(srv.MetricsHandler())
	logger.Info("serving", "addr", ln.Addr().String(), "metrics_addr", addrOf(metricsLn), "production", cfg.Production,
		"playground", !cfg.Production, "metrics", srvCfg.Metrics.String())
	if devSecret {
		printDevTokens(os.Stderr, secretFile, devTokens, devTokenTTLFor(signer))
	}
	if !cfg.Production {
		fmt.Fprintf(os.Stderr, "Playground: http://%s/\n", browsable(ln.Addr()))
	}
	if m := srvCfg.Console; m == graph.ConsoleOn || m == graph.ConsoleDefault && !cfg.Production {
		fmt.Fprintf(os.Stderr, "Console: http://%s/console\n", browsable(ln.Addr()))
	}

	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	go ledger.RunExpiry(jobs, cfg.ExpiryInterval, logger)
	go plusTerms.RunEnds(jobs, cfg.PlusEndInterval, logger)
	go scores.RunSettlement(jobs, cfg.SettleInterval)
	go medals.RunReevaluation(jobs, cfg.MedalInterval, logger)
	go campaigns.RunSchedules(jobs, logger)
	go campaigns.RunTriggers(jobs, logger) // EVENT campaigns, read from the committed events and outbox
	go tags.RunDaily(jobs, tag.DailyCheck)
	go partners.RunReconciler(jobs, 30*time.Second)
	go webhook.NewDispatcher(db.Client, clk, cfg.Webhooks, logger).Run(jobs)
	go ledger.RunExpiringNotices(jobs, cfg.ExpiryInterval, cfg.ExpiringNoticeDays, logger)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newHTTPServer serves h with timeouts that free a connection whatever its client does:
//   - ReadHeaderTimeout 5 s: a client dribbling its headers (slowloris) is cut off;
//   - ReadTimeout 30 s for headers and body: a 1 MiB body needs well under that;
//   - WriteTimeout: the request deadline plus 5 s, so the UNAVAILABLE answer of a request
//     that ran out of time is still written, and a client that stops reading is dropped;
//   - IdleTimeout 120 s between requests on a kept-alive connection.
//
// A websocket takes its connection over at the upgrade, which clears these deadlines; its
// own limits (init timeout, pings) apply from then on.
func newHTTPServer(h http.Handler, logger *slog.Logger, requestTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      requestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// gate answers 503 "starting" until open hands it the real handler: serve listens before it
// migrates and starts plugins, and a client that connects meanwhile learns to retry.
type gate struct{ h atomic.Pointer[http.Handler] }

func (g *gate) open(h http.Handler) { g.h.Store(&h) }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := g.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "starting: migrating the database and starting plugins", http.StatusServiceUnavailable)
}

// metricsExposure says where /metrics is served: on its own address when one is set, else
// on the API's address, behind an ADMIN token in production.
func metricsExposure(cfg config) graph.MetricsExposure {
	switch {
	case cfg.MetricsAddr != "":
		return graph.MetricsElsewhere
	case cfg.Production:
		return graph.MetricsAdmin
	}
	return graph.MetricsOpen
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// browsable turns a listen address into one a browser on this machine can open.
func browsable(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

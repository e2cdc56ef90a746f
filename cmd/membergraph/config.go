package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/webhook"
)

// config is every setting of the binary. Defaults are set in the bind methods, in one
// place; each flag's environment variable is named in its help text. Relative paths
// (database file, plugin and state directories) resolve against the working directory.
type config struct {
	DatabaseURL string
	Addr        string
	// AuthSecret signs and checks tokens; empty outside production: the development secret
	// kept in StateDir.
	AuthSecret string
	// CodeKey is the key PLUS codes are stored hashed with (≥ 32 bytes, MEMBERGRAPH_CODE_KEY).
	// Empty: derived from AuthSecret (or the development secret), so rotating that secret
	// voids the codes not yet redeemed; set it in production to rotate the two apart.
	CodeKey   string
	PluginDir string
	// StateDir holds what must outlive the binary and its build output: the partner
	// plugins' state and the development secret. Empty: beside the SQLite file, or data.
	StateDir string
	// MetricsAddr, when set, serves /metrics there and not on Addr.
	MetricsAddr string
	Program     string
	Production  bool
	// Console is --console: unset serves the operator console where the playground is (not
	// with --production); set, it says.
	Console         optionalBool
	Migrate         bool
	LogLevel        string
	ComplexityLimit int
	DepthLimit      int
	MaxBodyBytes    int64
	// SelectionLimit and MutationLimit are graph.ServerConfig's (defaults
	// graph.DefaultSelectionLimit and graph.DefaultMutationLimit).
	SelectionLimit int
	MutationLimit  int
	// CORSOrigins is the comma-separated allow-list of browser origins whose pages may call
	// /graphql (graph.ParseCORSOrigins). Default empty: none.
	CORSOrigins     string
	ShutdownTimeout time.Duration
	ExpiryInterval  time.Duration
	SettleInterval  time.Duration
	MedalInterval   time.Duration
	// CampaignInterval is how often serve runs the campaigns whose schedule is due (default 1m).
	CampaignInterval time.Duration
	// CampaignTriggers tunes the EVENT campaigns' consumer (--campaign-trigger-*).
	CampaignTriggers campaign.TriggerConfig
	// PlusEndInterval is how often serve records the PLUS terms that ended (default 1m);
	// benefits stop at the end instant without it.
	PlusEndInterval time.Duration
	// NoDemo keeps serve from loading the demo members (internal/demo) when it creates the
	// programme on an empty database. Default false (MEMBERGRAPH_DEMO=true); production
	// never loads them.
	NoDemo bool
	// TokenMaxTTL is the longest lifetime (exp − iat) of a token issued or accepted
	// (default auth.DefaultMaxTTL, 30 days).
	TokenMaxTTL time.Duration
	// RequestTimeout bounds each /graphql request (default graph.DefaultRequestTimeout,
	// 10 s): past it the answer is UNAVAILABLE with a retry hint and nothing is applied. The
	// HTTP server's write timeout is derived from it (httpTimeouts).
	RequestTimeout time.Duration
	// ClockStart, when set, is the RFC 3339 instant the business clock reads at start; it then
	// runs at the wall clock's pace. For demos, rehearsals and the README's examples, which
	// are written for one date; refused with --production. Empty: the wall clock.
	ClockStart string
	// WSMaxConnections and WSMaxPerSubject are graph.WebsocketConfig's MaxConnections and
	// MaxPerSubject (defaults graph.DefaultWebsocketMaxConnections and
	// graph.DefaultWebsocketMaxPerSubject).
	WSMaxConnections int
	WSMaxPerSubject  int
	// Webhooks tunes the webhook dispatcher every serve runs (internal/webhook.Config; the
	// --webhook-* flags): poll, timeout, lease, backoff, retry period, disabling run.
	Webhooks webhook.Config
	// LivePoll is how often a server with memberUpdated subscribers reads the outbox
	// (default 250 ms).
	LivePoll time.Duration
	// ExpiringNoticeDays is how far ahead serve tells members' points lapsing
	// (points.expiring, once a member and day; default 7, 0 off).
	ExpiringNoticeDays int
}

// bindServe registers the flags of serve; the other commands bind the few they use.
func (c *config) bindServe(fs *flag.FlagSet) {
	c.bindDatabase(fs)
	c.bindProgram(fs, "key of the default programme, for tokens that name none")
	fs.StringVar(&c.Addr, "addr", env("MEMBERGRAPH_ADDR", ":8080"), "listen address [MEMBERGRAPH_ADDR]")
	c.bindSecret(fs, "that signs bearer tokens (HS256, ≥ 32 bytes); empty (not with --production): the development secret kept in the state directory")
	c.bindTokenMaxTTL(fs)
	c.bindCodeKey(fs)
	c.bindPluginDir(fs)
	c.bindStateDir(fs, "directory for state that outlives the build output: partner plugins' data (plugins/KEY) and the development secret; default: the SQLite file's directory, else data")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("MEMBERGRAPH_METRICS_ADDR", ""),
		"serve /metrics on this address only (e.g. 127.0.0.1:9090); empty: on --addr, with --production behind an ADMIN token [MEMBERGRAPH_METRICS_ADDR]")
	fs.BoolVar(&c.Production, "production", envBool("MEMBERGRAPH_PRODUCTION", false),
		"production mode: no introspection, no playground, a configured secret required [MEMBERGRAPH_PRODUCTION]")
	if v, ok := os.LookupEnv("MEMBERGRAPH_CONSOLE"); ok {
		if err := c.Console.Set(v); err != nil {
			fmt.Fprintf(os.Stderr, "membergraph: MEMBERGRAPH_CONSOLE: want true or false, ignored\n")
		}
	}
	fs.Var(&c.Console, "console",
		"serve the operator console at /console; default: where the playground is, not with --production [MEMBERGRAPH_CONSOLE]")
	fs.BoolVar(&c.NoDemo, "no-demo", !envBool("MEMBERGRAPH_DEMO", true),
		"do not load the demo members (see 'membergraph demo') when serve creates the programme on an empty database; --production never loads them [MEMBERGRAPH_DEMO=false]")
	fs.StringVar(&c.ClockStart, "clock-start", env("MEMBERGRAPH_CLOCK_START", ""),
		"RFC 3339 instant the business clock starts at, e.g. 2026-12-03T10:00:00+08:00 (demos and rehearsals; not with --production); empty: the wall clock [MEMBERGRAPH_CLOCK_START]")
	fs.BoolVar(&c.Migrate, "migrate", envBool("MEMBERGRAPH_MIGRATE", true),
		"apply pending database migrations before serving; false where 'membergraph migrate' runs as a release step [MEMBERGRAPH_MIGRATE]")
	fs.StringVar(&c.LogLevel, "log-level", env("MEMBERGRAPH_LOG_LEVEL", "info"), "debug, info, warn or error [MEMBERGRAPH_LOG_LEVEL]")
	fs.IntVar(&c.ComplexityLimit, "complexity-limit", envInt("MEMBERGRAPH_COMPLEXITY_LIMIT", graph.DefaultComplexityLimit),
		"largest query complexity accepted; a connection costs its page size times its items [MEMBERGRAPH_COMPLEXITY_LIMIT]")
	fs.IntVar(&c.DepthLimit, "depth-limit", envInt("MEMBERGRAPH_DEPTH_LIMIT", graph.DefaultDepthLimit), "deepest query accepted [MEMBERGRAPH_DEPTH_LIMIT]")
	fs.IntVar(&c.SelectionLimit, "selection-limit", envInt("MEMBERGRAPH_SELECTION_LIMIT", graph.DefaultSelectionLimit),
		"most fields, inline fragments and fragment spreads a document may select with every fragment spread expanded, counted before it is validated [MEMBERGRAPH_SELECTION_LIMIT]")
	fs.IntVar(&c.MutationLimit, "mutation-limit", envInt("MEMBERGRAPH_MUTATION_LIMIT", graph.DefaultMutationLimit),
		"most mutation fields one request may run, each alias counting [MEMBERGRAPH_MUTATION_LIMIT]")
	fs.StringVar(&c.CORSOrigins, "cors-origins", env("MEMBERGRAPH_CORS_ORIGINS", ""),
		"comma-separated exact origins whose browser pages may call /graphql, e.g. http://localhost:5173; default none [MEMBERGRAPH_CORS_ORIGINS]")
	fs.IntVar(&c.WSMaxConnections, "ws-max-connections", envInt("MEMBERGRAPH_WS_MAX_CONNECTIONS", graph.DefaultWebsocketMaxConnections),
		"most websockets this server holds open, authenticated or not; one more upgrade is answered 503 [MEMBERGRAPH_WS_MAX_CONNECTIONS]")
	fs.IntVar(&c.WSMaxPerSubject, "ws-max-per-subject", envInt("MEMBERGRAPH_WS_MAX_PER_SUBJECT", graph.DefaultWebsocketMaxPerSubject),
		"most websockets of one token subject (role, programme and subject); one more is closed with 4429 [MEMBERGRAPH_WS_MAX_PER_SUBJECT]")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", int64(envInt("MEMBERGRAPH_MAX_BODY_BYTES", graph.DefaultMaxBodyBytes)),
		"largest request body accepted [MEMBERGRAPH_MAX_BODY_BYTES]")
	fs.DurationVar(&c.ExpiryInterval, "expiry-interval", time.Hour,
		"how often the server writes off expired points (balances are right between runs)")
	fs.DurationVar(&c.PlusEndInterval, "plus-end-interval", time.Minute,
		"how often the server records the PLUS terms that ended, for history and metrics (benefits stop at the end instant regardless)")
	fs.DurationVar(&c.SettleInterval, "settle-interval", time.Hour,
		"how often the server settles the month's scores of members not settled for it yet (all on the 1st, newcomers later; each member once per month)")
	fs.DurationVar(&c.MedalInterval, "medal-interval", 24*time.Hour,
		"how often the server lowers medal levels whose activity left the 12-month window")
	fs.DurationVar(&c.CampaignInterval, "campaign-interval", time.Minute,
		"how often the server runs the campaigns whose schedule is due (each member once per run, on any number of servers)")
	fs.DurationVar(&c.CampaignTriggers.Poll, "campaign-trigger-poll", time.Second,
		"how often the server reads committed events for the EVENT campaigns when it found none (about the most a trigger lags its event)")
	fs.DurationVar(&c.CampaignTriggers.Lease, "campaign-trigger-lease", 30*time.Second,
		"how long one server holds the EVENT campaigns' reading after its last step; another takes over once it ran out")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish after SIGTERM")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", envDuration("MEMBERGRAPH_REQUEST_TIMEOUT", graph.DefaultRequestTimeout, "10s"),
		"deadline of each /graphql request, database lock waits and retries included; past it the answer is UNAVAILABLE with retryAfterSeconds [MEMBERGRAPH_REQUEST_TIMEOUT]")
	c.bindWebhooks(fs)
}

// bindWebhooks registers the dispatcher's flags; their defaults are webhook.Config's.
func (c *config) bindWebhooks(fs *flag.FlagSet) {
	w := &c.Webhooks
	fs.DurationVar(&w.Poll, "webhook-poll", time.Second, "how often the webhook dispatcher looks for messages when it found none")
	fs.DurationVar(&w.Timeout, "webhook-timeout", 10*time.Second, "deadline of one webhook delivery attempt")
	fs.DurationVar(&w.Lease, "webhook-lease", webhook.DefaultLease,
		"how long a server holds a delivery it is attempting; longer than --webhook-timeout; a delivery of a server that died is attempted again after it")
	fs.DurationVar(&w.Backoff, "webhook-backoff", webhook.DefaultBackoff, "wait after a delivery's first failed attempt; doubled after each further failure")
	fs.DurationVar(&w.MaxBackoff, "webhook-max-backoff", webhook.DefaultMaxBackoff, "longest wait between two attempts of a delivery")
	fs.DurationVar(&w.RetryFor, "webhook-retry-for", webhook.DefaultRetryFor,
		"how long a delivery is retried before it is FAILED (at least 24h with --production)")
	fs.IntVar(&w.DisableAfter, "webhook-disable-after", webhook.DefaultDisableAfter,
		"failed attempts in a row after which an endpoint is DISABLED")
	fs.IntVar(&c.ExpiringNoticeDays, "expiring-notice-days", 7,
		"tell the outbox (points.expiring) of each member's points lapsing within this many days, once a member and day, checked every --expiry-interval; 0: never")
	fs.DurationVar(&c.LivePoll, "live-poll", 250*time.Millisecond, "how often a server with memberUpdated subscribers reads the outbox")
}

// bindDatabase registers --database-url. Help shows the URL with its password hidden.
func (c *config) bindDatabase(fs *flag.FlagSet) {
	c.DatabaseURL = env("MEMBERGRAPH_DATABASE_URL", store.DefaultURL)
	fs.Var(&hidden{p: &c.DatabaseURL, show: store.Redact}, "database-url",
		"the database `URL`: sqlite://PATH (relative to the working directory) or mysql://USER:PASS@tcp(HOST:3306)/DB; help hides the password [MEMBERGRAPH_DATABASE_URL]")
}

// bindProgram registers --program with what it means to the command.
func (c *config) bindProgram(fs *flag.FlagSet, usage string) {
	fs.StringVar(&c.Program, "program", env("MEMBERGRAPH_PROGRAM", program.PresetKey), usage+" [MEMBERGRAPH_PROGRAM]")
}

// bindTokenMaxTTL registers --token-max-ttl, the longest lifetime a token is issued or
// accepted with.
func (c *config) bindTokenMaxTTL(fs *flag.FlagSet) {
	fs.DurationVar(&c.TokenMaxTTL, "token-max-ttl", envDuration("MEMBERGRAPH_TOKEN_MAX_TTL", auth.DefaultMaxTTL, "720h"),
		"longest token lifetime issued or accepted (exp − iat); tokens over it are refused [MEMBERGRAPH_TOKEN_MAX_TTL]")
}

// bindSecret registers --auth-secret; help says only whether one is set.
func (c *config) bindSecret(fs *flag.FlagSet, usage string) {
	c.AuthSecret = env("MEMBERGRAPH_AUTH_SECRET", "")
	fs.Var(&hidden{p: &c.AuthSecret, show: func(string) string { return "(set)" }}, "auth-secret", "the `SECRET` "+usage+"; help shows only whether it is set [MEMBERGRAPH_AUTH_SECRET]")
}

func (c *config) bindPluginDir(fs *flag.FlagSet) {
	fs.StringVar(&c.PluginDir, "plugin-dir", env("MEMBERGRAPH_PLUGIN_DIR", "bin/plugins"),
		"directory of the partner plugin executables and their trusted catalogue [MEMBERGRAPH_PLUGIN_DIR]")
}

func (c *config) bindStateDir(fs *flag.FlagSet, usage string) {
	fs.StringVar(&c.StateDir, "state-dir", env("MEMBERGRAPH_STATE_DIR", ""), usage+" [MEMBERGRAPH_STATE_DIR]")
}

// stateDir is the state directory as an absolute path: the configured one, else the
// directory of the SQLite file, else data in the working directory.
func (c *config) stateDir() (string, error) {
	if c.StateDir != "" {
		return filepath.Abs(c.StateDir)
	}
	if t, err := store.ParseURL(c.DatabaseURL); err == nil && t.File != "" {
		return filepath.Dir(t.File), nil
	}
	return filepath.Abs("data")
}

// hidden is a string flag whose value help shows only through show: flag prints a flag's
// value at definition as its default, and that value comes from the environment.
type hidden struct {
	p    *string
	show func(string) string
}

func (h *hidden) String() string {
	if h == nil || h.p == nil || *h.p == "" {
		return ""
	}
	return h.show(*h.p)
}

func (h *hidden) Set(v string) error {
	*h.p = v
	return nil
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// optionalBool is a boolean flag that tells "not given" from false.
type optionalBool struct{ set, value bool }

func (o *optionalBool) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatBool(o.value)
}

func (o *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	o.set, o.value = true, v
	return nil
}

// IsBoolFlag lets the flag be given bare: --console.
func (o *optionalBool) IsBoolFlag() bool { return true }

// mode is the console mode the flag asks for.
func (o optionalBool) mode() graph.ConsoleMode {
	switch {
	case !o.set:
		return graph.ConsoleDefault
	case o.value:
		return graph.ConsoleOn
	}
	return graph.ConsoleOff
}

func envBool(name string, def bool) bool {
	v, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "membergraph: %s: want true or false, using %v\n", name, def)
		return def
	}
	return v
}

// envDuration reads a positive duration; example is one of a fitting size for the warning.
func envDuration(name string, def time.Duration, example string) time.Duration {
	v := env(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		fmt.Fprintf(os.Stderr, "membergraph: %s: want a positive duration such as %s, using %s\n", name, example, def)
		return def
	}
	return d
}

func envInt(name string, def int) int {
	v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "membergraph: %s: want a whole number, using %d\n", name, def)
		return def
	}
	return v
}

// businessClock is the clock of the programme's rules: the wall clock, or one started at
// --clock-start. Production always runs on the wall clock.
func (c *config) businessClock() (clock.Clock, error) {
	if c.ClockStart == "" {
		return clock.System{}, nil
	}
	if c.Production {
		return nil, errors.New("--clock-start (MEMBERGRAPH_CLOCK_START) is for demos and rehearsals, not --production")
	}
	at, err := time.Parse(time.RFC3339, c.ClockStart)
	if err != nil {
		return nil, fmt.Errorf("--clock-start (MEMBERGRAPH_CLOCK_START): want an RFC 3339 instant such as 2026-12-03T10:00:00+08:00, got %q", c.ClockStart)
	}
	return clock.StartingAt(at), nil
}

// bindClockStart binds --clock-start for the commands that act at the business clock's now
// beside serve (campaigns run, tags evaluate), so a rehearsal runs them at serve's instant.
func (c *config) bindClockStart(fs *flag.FlagSet) {
	fs.StringVar(&c.ClockStart, "clock-start", env("MEMBERGRAPH_CLOCK_START", ""),
		"RFC 3339 instant the business clock starts at (rehearsals; empty: the wall clock) [MEMBERGRAPH_CLOCK_START]")
}

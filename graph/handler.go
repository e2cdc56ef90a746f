package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph/console"
	"github.com/membergraph/membergraph/graph/playground"
	"github.com/membergraph/membergraph/internal/analytics"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/benefit"
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
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/webhook"
)

// ServerConfig assembles a server. Zero limits take the defaults of withDefaults.
type ServerConfig struct {
	DB       *store.DB
	Signer   *auth.Signer
	Programs *program.Service
	Members  *member.Service
	Ledger   *points.Ledger
	Events   *events.Service
	// Scores, Tiers, Benefits and Medals default to services over DB with Ledger's clock.
	Scores   *score.Service
	Tiers    *tier.Service
	Benefits *benefit.Service
	Medals   *medal.Service
	// Partners defaults to a service without plugins: no partners.
	Partners *partner.Service
	// Plus grants, cancels and reads PLUS terms. Default: a service over Ledger with no
	// listeners; Ledger must have been built with plus.NewChecker for PLUS to earn 10×.
	Plus *plus.Service
	// PlusCodes issues and redeems PLUS codes. Default: a service hashing codes under a
	// random key of this process (pluscode.EphemeralHasher), so codes live as long as the
	// server; serve passes one with the configured code key.
	PlusCodes *pluscode.Service
	// Stores serves store programmes, consents, what a STORE sees and its grants. Default:
	// a service over DB granting through Ledger.
	Stores *storeprog.Service
	// Campaigns creates, runs and reports campaigns. Default: a service over DB whose
	// audiences are internal/segment's segments.
	Campaigns *campaign.Service
	// Tags sets manual tags and evaluates tag rules. Default: a service over DB that hears
	// Events' committed slices (events.Service.AddCommitListener), so an event re-tags its
	// member; a caller passing its own wires that itself.
	Tags *tag.Service
	// Segments saves and counts segments. Default: a service over DB.
	Segments *segment.Service
	Logger   *slog.Logger
	// DefaultProgram is the programme of tokens that name none.
	DefaultProgram string
	// Production turns off introspection and the playground.
	Production bool
	// Console says whether the operator console is served at /console (graph/console);
	// the zero value, ConsoleDefault, serves it where the playground is: not in Production.
	Console ConsoleMode
	// DevToken, when set, is pre-filled into the playground's headers for visitors on
	// loopback: the development convenience of a server that generated its own secret.
	DevToken string
	// Version is the binary's version, reported by /healthz.
	Version string
	// Metrics says who may read /metrics on this handler (default MetricsOpen).
	Metrics MetricsExposure

	// CORSOrigins are the browser origins whose pages may call /graphql (exact origins, see
	// ParseCORSOrigins). Default none: only same-origin pages and non-browser clients.
	CORSOrigins []string
	// Websocket bounds the websocket transport (WebsocketConfig: init timeout, message
	// size, connections per token subject and in total, ping/pong).
	Websocket WebsocketConfig
	// LiveUpdates tunes the outbox feed of the memberUpdated subscription (poll interval,
	// wait for a sequence gap, per-listener buffer; outbox.FeedConfig's defaults).
	LiveUpdates outbox.FeedConfig

	// SelectionLimit bounds the fields, inline fragments and fragment spreads of a document
	// with every fragment spread expanded, counted before the document is validated
	// (default DefaultSelectionLimit, 5000; above it SELECTION_LIMIT_EXCEEDED).
	SelectionLimit int
	// MutationLimit bounds the mutation fields one request runs, each alias counting
	// (default DefaultMutationLimit, 10; above it MUTATION_LIMIT_EXCEEDED).
	MutationLimit   int
	ComplexityLimit int   // default DefaultComplexityLimit, 5000
	DepthLimit      int   // default DefaultDepthLimit, 12
	MaxBodyBytes    int64 // default DefaultMaxBodyBytes, 1 MiB
	// RequestTimeout bounds each /graphql request, token check included (default
	// DefaultRequestTimeout, 10 s); past it the answer is UNAVAILABLE with a retry hint.
	RequestTimeout time.Duration
}

func (c *ServerConfig) withDefaults() {
	if c.SelectionLimit == 0 {
		c.SelectionLimit = DefaultSelectionLimit
	}
	if c.MutationLimit == 0 {
		c.MutationLimit = DefaultMutationLimit
	}
	if c.ComplexityLimit == 0 {
		c.ComplexityLimit = DefaultComplexityLimit
	}
	if c.DepthLimit == 0 {
		c.DepthLimit = DefaultDepthLimit
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	c.Websocket.withDefaults()
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DefaultProgram == "" {
		c.DefaultProgram = program.PresetKey
	}
	if c.Version == "" {
		c.Version = "devel"
	}
	if c.Scores == nil {
		c.Scores = score.NewService(c.DB.Client, c.Ledger.Clock(), c.Ledger, score.SettleConfig{Logger: c.Logger})
	}
	if c.Tiers == nil {
		c.Tiers = tier.NewService(c.DB.Client, c.Ledger.Clock())
	}
	if c.Benefits == nil {
		c.Benefits = benefit.NewService(c.DB.Client, c.Ledger)
	}
	if c.Medals == nil {
		c.Medals = medal.NewService(c.DB.Client, c.Ledger)
	}
	if c.Partners == nil {
		pid, _ := c.Programs.IDByKey(context.Background(), c.DefaultProgram)
		c.Partners = partner.NewService(c.DB.Client, c.Ledger, pid, c.Logger)
	}
	if c.Plus == nil {
		c.Plus = plus.NewService(c.DB.Client, c.Ledger)
	}
	if c.PlusCodes == nil {
		c.PlusCodes = pluscode.NewService(c.DB.Client, c.Ledger, c.Plus, pluscode.EphemeralHasher())
	}
	if c.Stores == nil {
		c.Stores = storeprog.NewService(c.DB.Client, c.Ledger)
	}
	if c.Tags == nil {
		c.Tags = tag.NewService(c.DB.Client, c.Ledger.Clock(), c.DB.Dialect, tag.Config{Logger: c.Logger})
		if c.Events != nil {
			c.Events.AddCommitListener(c.Tags.Touched)
		}
	}
	if c.Segments == nil {
		c.Segments = segment.NewService(c.DB.Client, c.Ledger.Clock())
	}
	if c.Campaigns == nil {
		c.Campaigns = campaign.NewService(c.DB.Client, c.Ledger, segment.NewService(c.DB.Client, c.Ledger.Clock()),
			campaign.SegmentsByKey(c.DB.Client), campaign.Config{})
	}
}

// Server is the HTTP face of membergraph: /graphql, the playground, health and metrics.
type Server struct {
	cfg        ServerConfig
	mux        *http.ServeMux
	metrics    *metrics
	promHandle http.Handler
}

// NewServer assembles the handlers. It registers its metrics on a registry of its own, so
// several servers can live in one process (tests), and makes itself the observer of the
// ledger, event and score services it is given, so their work shows in /metrics whoever
// calls them (resolvers or the background jobs).
func NewServer(cfg ServerConfig) *Server {
	cfg.withDefaults()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(cfg.DB.SQL, "membergraph"), partnerCollector{cfg.Partners})
	s := &Server{cfg: cfg, mux: http.NewServeMux(), metrics: newMetrics(reg),
		promHandle: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	s.metrics.observe(cfg)

	gql := s.graphqlHandler()
	s.mux.Handle("/graphql", s.cors(s.deadline(s.authenticate(gql))))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// The first line stays "ok" for probes that match the body.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\nversion " + s.cfg.Version + "\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	switch cfg.Metrics {
	case MetricsOpen:
		s.mux.Handle("GET /metrics", s.promHandle)
	case MetricsAdmin:
		s.mux.Handle("GET /metrics", s.adminOnly(s.promHandle))
	}
	if !cfg.Production {
		pg := playground.Handler(playground.Options{
			Title:          "membergraph",
			Endpoint:       "/graphql",
			DefaultHeaders: s.playgroundHeaders,
		})
		s.mux.Handle("GET /{$}", pg)
		s.mux.Handle("GET /playground/", pg)
	}
	if cfg.Console == ConsoleOn || cfg.Console == ConsoleDefault && !cfg.Production {
		c := console.Handler(console.Options{Endpoint: "/graphql", DefaultToken: s.devToken})
		s.mux.Handle("GET "+console.Path, c)
		s.mux.Handle("GET "+console.Path+"/assets/", c)
	}
	return s
}

// ServeHTTP serves every request with a request id, an access log line and metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	withRequestID(s.observe(s.mux)).ServeHTTP(w, r)
}

func (s *Server) graphqlHandler() http.Handler {
	resolver := &Resolver{client: s.cfg.DB.Client, programs: s.cfg.Programs, members: s.cfg.Members,
		ledger: s.cfg.Ledger, events: s.cfg.Events, scores: s.cfg.Scores, tiers: s.cfg.Tiers, benefits: s.cfg.Benefits,
		medals: s.cfg.Medals, partners: s.cfg.Partners, plus: s.cfg.Plus, plusCodes: s.cfg.PlusCodes,
		stores: s.cfg.Stores, campaigns: s.cfg.Campaigns, tags: s.cfg.Tags, segments: s.cfg.Segments, catalogues: newCatalogues(s.cfg.DB.Client, s.cfg.Programs)}
	resolver.webhooks = webhook.NewService(s.cfg.DB.Client, s.cfg.Ledger.Clock())
	resolver.feed = outbox.NewFeed(s.cfg.DB.Client, s.cfg.LiveUpdates, s.cfg.Logger)
	resolver.analytics = analytics.New(s.cfg.DB.Client, s.cfg.DB.Dialect, s.cfg.Ledger.Clock())
	ecfg := Config{Resolvers: resolver}
	ecfg.Directives.Auth = authDirective
	ecfg.Complexity.Query.Members = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.MemberOrder, _ *ent.MemberWhereInput) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.MemberPoints.Entries = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Member.TierHistory = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.TierChangeOrder) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Query.MedalLeaders = func(child int, _ string, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Member.MedalHistory = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.MedalChangeOrder) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Member.PartnerGrants = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.PartnerGrantOrder) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Member.Events = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Member.BenefitClaims = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int) int {
		return pageComplexity(child, first, last)
	}
	ecfg.Complexity.Query.AuditEntries = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int) int {
		return pageComplexity(child, first, last)
	}
	es := NewExecutableSchema(ecfg)
	srv := handler.New(es)
	// Browsers cannot set headers on a websocket, so the token comes in connection_init
	// (websocket.go).
	srv.AddTransport(s.websocketTransport())
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	validated := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(validated)
	srv.SetDisableSuggestion(true)
	if s.cfg.Production {
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	srv.SetErrorPresenter(presentWithoutBody)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		slog.ErrorContext(ctx, "resolver panicked", "panic", p, "stack", string(debug.Stack()), "request_id", RequestID(ctx))
		return gqlErr(ctx, CodeInternal, "internal error")
	})
	if s.cfg.Production {
		srv.Use(noIntrospection{})
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// After the persisted query is looked up, before anything walks the document.
	srv.Use(selectionLimit{Max: s.cfg.SelectionLimit, validated: validated})
	srv.Use(extension.FixedComplexityLimit(s.cfg.ComplexityLimit))
	srv.Use(depthLimit{Max: s.cfg.DepthLimit})
	srv.Use(mutationLimit{Max: s.cfg.MutationLimit})
	srv.AroundRootFields(deferInputErrors)
	// paginate, refuseMalformedInput, refuseOversizedInput, for the fields they concern.
	srv.AroundFields(fieldChecks(es.Schema()))
	srv.AroundOperations(s.metrics.operation)
	srv.AroundOperations(withMemo)
	return srv
}

// authenticate admits only requests with a valid bearer token; a websocket upgrade
// authenticates in its init message instead.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || websocket.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.readBody(w, r) {
			return
		}
		v, err := s.viewer(r.Context(), r.Header.Get("Authorization"))
		if errors.Is(err, errCannotCheckToken) {
			// The token may well be good: an outage, not a reason to log the caller out.
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
			writeHTTPError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error())
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="membergraph"`)
			writeHTTPError(w, http.StatusUnauthorized, CodeUnauthenticated, err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), v)))
	})
}

// errCannotCheckToken: the database did not answer which programme a token is for.
var errCannotCheckToken = errors.New("cannot check the token now; retry shortly")

// viewer turns an Authorization header into the request's viewer.
func (s *Server) viewer(ctx context.Context, header string) (auth.Viewer, error) {
	// The scheme is case-insensitive (RFC 9110 §11.1); the token itself is not.
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	ok = ok && strings.EqualFold(scheme, "Bearer")
	if !ok || token == "" {
		return auth.Viewer{}, errors.New("authentication required: send Authorization: Bearer <token>")
	}
	c, err := s.cfg.Signer.Verify(strings.TrimSpace(token))
	if err != nil {
		return auth.Viewer{}, errors.New("invalid or expired token")
	}
	key := c.Program
	if key == "" {
		key = s.cfg.DefaultProgram
	}
	pid, err := s.cfg.Programs.IDByKey(ctx, key)
	if errors.Is(err, program.ErrUnknownProgram) {
		return auth.Viewer{}, errors.New("the token's programme does not exist")
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "resolving token programme", "err", err, "request_id", RequestID(ctx))
		return auth.Viewer{}, errCannotCheckToken
	}
	return auth.Viewer{Role: c.Role, Subject: c.Subject, ProgramID: pid}, nil
}

// ready answers 200 when the database answers and has every migration this binary needs.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.cfg.DB.SQL.PingContext(ctx); err != nil {
		s.cfg.Logger.WarnContext(ctx, "not ready: database", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	if pending, err := s.cfg.DB.Pending(ctx); err != nil || len(pending) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database migrations pending: run membergraph migrate\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// ConsoleMode says whether the server serves the operator console.
type ConsoleMode int

// The console modes.
const (
	ConsoleDefault ConsoleMode = iota // served where the playground is: not in Production
	ConsoleOn                         // served, in Production too
	ConsoleOff                        // not served
)

// playgroundHeaders pre-fills a development token for visitors on this machine only.
func (s *Server) playgroundHeaders(r *http.Request) string {
	tok := s.devToken(r)
	if tok == "" {
		return ""
	}
	return `{"Authorization": "Bearer ` + tok + `"}`
}

// devToken is the development token for visitors on this machine only, "" for others; the
// playground and the console pre-fill it.
func (s *Server) devToken(r *http.Request) string {
	if s.cfg.DevToken == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return ""
	}
	return s.cfg.DevToken
}

func writeHTTPError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	resp := graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}}
	_ = json.NewEncoder(w).Encode(resp)
}

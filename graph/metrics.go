package graph

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/membergraph/membergraph/internal/auth"
)

// maxOperationLabels bounds the distinct operation names kept as metric labels: names come
// from clients, and an unbounded label set would exhaust the metrics store.
const maxOperationLabels = 256

var operationNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// MetricsExposure says who may read /metrics on the API's address.
type MetricsExposure int

// The exposures. Production without an address of its own for the metrics keeps them
// behind an ADMIN token: they tell how the business runs.
const (
	MetricsOpen      MetricsExposure = iota // anyone (development)
	MetricsAdmin                            // an ADMIN bearer token
	MetricsElsewhere                        // not here: MetricsHandler is served on an address of its own
)

func (e MetricsExposure) String() string {
	switch e {
	case MetricsAdmin:
		return "admin token"
	case MetricsElsewhere:
		return "own address"
	}
	return "open"
}

// MetricsHandler serves the Prometheus metrics, for an address of their own.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.promHandle)
	return mux
}

// adminOnly admits requests with an ADMIN bearer token.
func (s *Server) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.viewer(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="membergraph"`)
			writeHTTPError(w, http.StatusUnauthorized, CodeUnauthenticated, err.Error())
			return
		}
		if !v.Is(auth.RoleAdmin) {
			writeHTTPError(w, http.StatusForbidden, CodeForbidden, "/metrics needs an ADMIN token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

type metrics struct {
	operations *prometheus.CounterVec
	opDuration *prometheus.HistogramVec
	httpReqs   *prometheus.CounterVec
	httpDur    *prometheus.HistogramVec

	// The domain's figures, told by the services' observers (domainObserver).
	events        *prometheus.CounterVec
	pointsIssued  *prometheus.CounterVec
	pointsSpent   *prometheus.CounterVec
	pointsExpired *prometheus.CounterVec
	pointsTaken   *prometheus.CounterVec
	pointsReturn  *prometheus.CounterVec
	settleRuns    *prometheus.CounterVec
	settleDur     prometheus.Histogram
	settleLastOK  prometheus.Gauge
	plus          plusMetrics

	mu    sync.Mutex
	names map[string]bool
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "membergraph_graphql_operations_total",
			Help: "GraphQL operations by operation name, type and outcome (ok or error).",
		}, []string{"operation", "type", "outcome"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "membergraph_graphql_operation_duration_seconds",
			Help:    "GraphQL operation latency by operation name and type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"operation", "type"}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "membergraph_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "membergraph_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route"}),
		names: map[string]bool{},
	}
	reg.MustRegister(m.operations, m.opDuration, m.httpReqs, m.httpDur)
	m.registerDomain(reg)
	return m
}

// label returns the operation name to record, folding anonymous, malformed and excess names.
func (m *metrics) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !operationNamePattern.MatchString(name) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.names[name] {
		if len(m.names) >= maxOperationLabels {
			return "other"
		}
		m.names[name] = true
	}
	return name
}

// operation records each GraphQL operation's latency and outcome.
func (m *metrics) operation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name, typ := oc.OperationName, "unknown"
	if oc.Operation != nil {
		name, typ = oc.Operation.Name, string(oc.Operation.Operation)
	}
	name = m.label(name)
	start := time.Now()
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil {
			return nil
		}
		outcome := "ok"
		if len(resp.Errors) > 0 {
			outcome = "error"
		}
		m.operations.WithLabelValues(name, typ, outcome).Inc()
		m.opDuration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
		return resp
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to the websocket transport, which asks for http.Hijacker.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status = http.StatusSwitchingProtocols
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

func route(path string) string {
	switch path {
	case "/graphql", "/healthz", "/readyz", "/metrics", "/":
		return path
	}
	if len(path) > len("/playground/") && path[:len("/playground/")] == "/playground/" {
		return "/playground/"
	}
	return "other"
}

// observe writes one access log line per request and the HTTP metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		ctx := r.Context()
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		rt := route(r.URL.Path)
		s.metrics.httpReqs.WithLabelValues(rt, strconv.Itoa(rec.status)).Inc()
		s.metrics.httpDur.WithLabelValues(rt).Observe(time.Since(start).Seconds())
		if rt == "/healthz" || rt == "/readyz" || rt == "/metrics" {
			return // probes would drown the log
		}
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case rt == "/playground/" && rec.status < 400:
			level = slog.LevelDebug // one page view fetches a dozen assets
		}
		s.cfg.Logger.Log(ctx, level, "request", "request_id", RequestID(ctx), "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

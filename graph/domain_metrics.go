package graph

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/usererr"
)

// The domain's metrics count what this process did, told by the services through their
// small observer interfaces (points.Observer, events.Observer, score.Observer): the services know nothing of Prometheus, and work done by the background jobs
// counts as much as work asked for through the API. Each replica counts its own; sum them.

func (m *metrics) registerDomain(reg prometheus.Registerer) {
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_events_total",
		Help: "Events recorded, by kind and status (ACCEPTED, DUPLICATE, REJECTED).",
	}, []string{"kind", "status"})
	funder := []string{"funder"}
	const funders = " Funder: PLATFORM, PLUS, STORE (every store) or PARTNER:<key>."
	m.pointsIssued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_points_issued_total",
		Help: "Points credited to members (earnings, gifts, grants, positive adjustments), by funder." + funders,
	}, funder)
	m.pointsSpent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_points_spent_total",
		Help: "Points members spent (order deductions and exchanges), by funder." + funders,
	}, funder)
	m.pointsExpired = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_points_expired_total",
		Help: "Points written off at expiry, by funder of the expiry entry." + funders,
	}, funder)
	m.pointsTaken = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_points_taken_back_total",
		Help: "Points taken back by refunds and negative adjustments, by funder." + funders,
	}, funder)
	m.pointsReturn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_points_spend_reversed_total",
		Help: "Spent points given back by reversed spends, by funder." + funders,
	}, funder)
	m.settleRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_settlement_runs_total",
		Help: "Score settlement runs this process took part in, by outcome (done or error).",
	}, []string{"outcome"})
	m.settleDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "membergraph_settlement_run_duration_seconds",
		Help:    "How long this process's settlement runs took, errors included.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
	})
	m.settleLastOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "membergraph_settlement_last_success_timestamp_seconds",
		Help: "Unix time at which this process's last successful settlement run ended; 0 before the first.",
	})
	reg.MustRegister(m.events, m.pointsIssued, m.pointsSpent, m.pointsExpired, m.pointsTaken, m.pointsReturn,
		m.settleRuns, m.settleDur, m.settleLastOK)
	m.plus.register(reg)
}

// observe makes the metrics the observer of the services cfg was given.
func (m *metrics) observe(cfg ServerConfig) {
	if cfg.Ledger != nil {
		cfg.Ledger.SetObserver(domainObserver{m})
	}
	if cfg.Events != nil {
		cfg.Events.SetObserver(domainObserver{m})
	}
	if cfg.Scores != nil {
		cfg.Scores.SetObserver(domainObserver{m})
	}
	if cfg.Plus != nil {
		cfg.Plus.SetObserver(m.plus)
	}
}

// domainObserver turns what the services tell into metrics.
type domainObserver struct{ m *metrics }

var _ points.Observer = domainObserver{}
var _ events.Observer = domainObserver{}
var _ score.Observer = domainObserver{}

var knownKinds = func() map[payload.Kind]bool {
	out := map[payload.Kind]bool{}
	for _, k := range payload.Kinds {
		out[k] = true
	}
	return out
}()

func (o domainObserver) EventRecorded(kind payload.Kind, status events.Status) {
	k := string(kind)
	if !knownKinds[kind] {
		k = "OTHER" // a rejected event may name any kind; labels stay bounded
	}
	o.m.events.WithLabelValues(k, string(status)).Inc()
}

func (o domainObserver) PointsMoved(kind pointentry.Kind, funding string, amount int64) {
	f := funderLabel(funding)
	switch {
	case kind == pointentry.KindEXPIRY:
		o.m.pointsExpired.WithLabelValues(f).Add(float64(-amount))
	case kind == pointentry.KindORDER_DEDUCTION || kind == pointentry.KindEXCHANGE:
		o.m.pointsSpent.WithLabelValues(f).Add(float64(-amount))
	case kind == pointentry.KindSPEND_REVERSAL:
		o.m.pointsReturn.WithLabelValues(f).Add(float64(amount))
	case amount > 0:
		o.m.pointsIssued.WithLabelValues(f).Add(float64(amount))
	case amount < 0:
		o.m.pointsTaken.WithLabelValues(f).Add(float64(-amount))
	}
}

// funderLabel folds the stores into one label value: there may be any number of them,
// while partners are the few plugins installed.
func funderLabel(funding string) string {
	if strings.HasPrefix(funding, "STORE:") {
		return "STORE"
	}
	if funding == "" {
		return points.FundPlatform
	}
	return funding
}

// SettlementRan records one settlement run of this process; a refused request (a period in
// the future, say) ran nothing.
func (o domainObserver) SettlementRan(_ *ent.Settlement, took time.Duration, err error) {
	if _, refused := usererr.From(err); refused {
		return
	}
	outcome := "done"
	if err != nil {
		outcome = "error"
	} else {
		o.m.settleLastOK.SetToCurrentTime()
	}
	o.m.settleRuns.WithLabelValues(outcome).Inc()
	o.m.settleDur.Observe(took.Seconds())
}

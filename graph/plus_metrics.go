package graph

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/membergraph/membergraph/internal/plus"
)

// plusMetrics counts PLUS terms as plus.Service tells of them: started by way in and plan,
// ended by why (a cancellation at once, an expiry when the job records it).
type plusMetrics struct {
	started *prometheus.CounterVec
	ended   *prometheus.CounterVec
}

var _ plus.Observer = plusMetrics{}

func (p *plusMetrics) register(reg prometheus.Registerer) {
	p.started = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_plus_terms_started_total",
		Help: "PLUS terms granted, by source (PURCHASE, TRIAL, CODE, PARTNER:<key>) and plan.",
	}, []string{"source", "plan"})
	p.ended = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "membergraph_plus_terms_ended_total",
		Help: "PLUS terms ended, by why: CANCELLED, REFUNDED, or EXPIRED when the job recorded the end.",
	}, []string{"why"})
	reg.MustRegister(p.started, p.ended)
}

func (p plusMetrics) TermStarted(source, plan string) { p.started.WithLabelValues(source, plan).Inc() }

func (p plusMetrics) TermEnded(why string) { p.ended.WithLabelValues(why).Inc() }

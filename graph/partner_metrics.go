package graph

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/plugins/host"
)

// partnerCollector reads the partners' state at each scrape: which state each is in, how
// often it restarted, and its calls by outcome with the time they took.
type partnerCollector struct{ partners *partner.Service }

var (
	partnerStatusDesc = prometheus.NewDesc("membergraph_partner_status",
		"1 for the state each partner plugin is in (RUNNING, RESTARTING, FAILED, DISABLED), 0 for the others.",
		[]string{"partner", "status"}, nil)
	partnerRestartsDesc = prometheus.NewDesc("membergraph_partner_restarts_total",
		"Restarts of each partner plugin since the server started.", []string{"partner"}, nil)
	partnerCallsDesc = prometheus.NewDesc("membergraph_partner_calls_total",
		"Calls to partner plugins by outcome: ok, refused, fault, timeout, unavailable, circuit_open, busy.",
		[]string{"partner", "outcome"}, nil)
	partnerCallSecondsDesc = prometheus.NewDesc("membergraph_partner_call_seconds_total",
		"Time spent in the calls that reached each partner plugin.", []string{"partner"}, nil)
)

func (partnerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- partnerStatusDesc
	ch <- partnerRestartsDesc
	ch <- partnerCallsDesc
	ch <- partnerCallSecondsDesc
}

func (c partnerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.partners.Partners() {
		for _, st := range []host.Status{host.Running, host.Restarting, host.Failed, host.Disabled} {
			v := 0.0
			if p.Status == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(partnerStatusDesc, prometheus.GaugeValue, v, p.Key, string(st))
		}
		ch <- prometheus.MustNewConstMetric(partnerRestartsDesc, prometheus.CounterValue, float64(p.Restarts), p.Key)
		for outcome, n := range p.Calls {
			ch <- prometheus.MustNewConstMetric(partnerCallsDesc, prometheus.CounterValue, float64(n), p.Key, outcome)
		}
		ch <- prometheus.MustNewConstMetric(partnerCallSecondsDesc, prometheus.CounterValue, p.CallSeconds, p.Key)
	}
}

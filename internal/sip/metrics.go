package sip

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests     *prometheus.CounterVec
	responses    *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	calls        *prometheus.CounterVec
	blocked      prometheus.Counter
	dropped      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Server) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringo_sip_requests_total",
			Help: "SIP requests received, by method."}, []string{"method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringo_sip_responses_total",
			Help: "SIP responses sent, by method and status code."}, []string{"method", "code"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringo_sip_auth_failures_total",
			Help: "Digest authentication failures, by reason (wrong, malformed, replay)."}, []string{"reason"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringo_calls_total",
			Help: "Calls ended, by outcome."}, []string{"outcome"}),
		blocked: prometheus.NewCounter(prometheus.CounterOpts{Name: "ringo_sip_sources_blocked_total",
			Help: "Source addresses blocked after repeated authentication failures."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "ringo_sip_dropped_total",
			Help: "Messages dropped because their source is blocked."}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.responses, m.authFailures, m.calls, m.blocked, m.dropped,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ringo_registrations",
				Help: "Live registrar bindings."}, func() float64 { return float64(s.loc.Count()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ringo_active_calls",
				Help: "Calls in progress."}, func() float64 { return float64(s.active.Load()) }),
		)
	}
	return m
}

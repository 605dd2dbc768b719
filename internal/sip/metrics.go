package sip

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests      *prometheus.CounterVec
	responses     *prometheus.CounterVec
	authFailures  *prometheus.CounterVec
	calls         *prometheus.CounterVec
	blocked       prometheus.Counter
	dropped       prometheus.Counter
	mediaFallback prometheus.Counter
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
		mediaFallback: prometheus.NewCounter(prometheus.CounterOpts{Name: "ringo_media_unanchored_total",
			Help: "Calls connected with direct media because no media session could be opened (port range exhausted)."}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.responses, m.authFailures, m.calls, m.blocked, m.dropped, m.mediaFallback,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ringo_media_sessions",
				Help: "Media sessions open (two per anchored call, one per echo call)."}, func() float64 {
				if s.media == nil {
					return 0
				}
				p := s.media.Ports()
				return float64(p.Size() - p.Available())
			}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ringo_media_packets_received_total",
				Help: "RTP packets received on media sessions."}, func() float64 { in, _ := s.msess.totals(); return float64(in) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ringo_media_packets_sent_total",
				Help: "RTP packets sent (relayed or echoed) on media sessions."}, func() float64 { _, out := s.msess.totals(); return float64(out) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ringo_registrations",
				Help: "Live registrar bindings."}, func() float64 { return float64(s.loc.Count()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ringo_active_calls",
				Help: "Calls in progress."}, func() float64 { return float64(s.active.Load()) }),
		)
	}
	return m
}

package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestFlowDest(t *testing.T) {
	uri := func(s string) sip.Uri {
		var u sip.Uri
		if err := sip.ParseUri(s, &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name            string
		contact, source string
		transport       string
		viaFlow         bool
		want            string
	}{
		{"same host, other port: the contact", "sip:a@192.0.2.1:5070", "192.0.2.1:6070", "UDP", false, "192.0.2.1:5070"},
		{"default port", "sip:a@192.0.2.1", "192.0.2.1:6070", "UDP", false, "192.0.2.1:5060"},
		{"behind NAT: the source", "sip:a@10.0.0.5:5060", "203.0.113.9:40000", "UDP", false, "203.0.113.9:40000"},
		{"placeholder host: the source", "sip:a@df7jal23ls0d.invalid;transport=ws", "198.51.100.2:51000", "UDP", false, "198.51.100.2:51000"},
		{"TCP: the connection", "sip:a@192.0.2.1:5070;transport=tcp", "192.0.2.1:41234", "TCP", false, "192.0.2.1:41234"},
		{"outbound: the flow", "sip:a@192.0.2.1:5070", "192.0.2.1:6070", "UDP", true, "192.0.2.1:6070"},
		{"IPv6", "sip:a@[2001:db8::1]:5070", "[2001:db8::1]:6000", "UDP", false, "[2001:db8::1]:5070"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := flowDest(uri(tc.contact), tc.source, tc.transport, tc.viaFlow); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRouteAddr(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"<sip:192.0.2.7;lr>", "192.0.2.7:5060", true},
		{"<sip:edge.example.com:5080;lr;transport=tcp>", "edge.example.com:5080", true},
		{"sip:192.0.2.7:5062", "192.0.2.7:5062", true},
		{"<>", "", false},
		{"garbage", "", false},
	}
	for _, tc := range tests {
		got, ok := routeAddr(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("routeAddr(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

package interop_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLateOfferAnchored has a SIPp caller whose INVITE carries no offer call
// a SIPp phone through Ringo: Ringo offers each side its own address, the
// caller answers in its ACK, and G.711 A-law audio from both phones passes
// through Ringo's ports, as the live call shows. Once the domain allows
// direct media, the same call keeps its SDP and media between the phones.
func TestLateOfferAnchored(t *testing.T) {
	interop(t, "sipp")
	const pcapDir = "/usr/share/sip-tester"
	if p := filepath.Join(pcapDir, "g711a.pcap"); !fileExists(p) {
		msg := "SIPp's audio pcap is not installed (" + p + "; Debian package sip-tester)"
		if strings.EqualFold(getenv("RINGO_INTEROP"), "require") {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	scenario := func(name string) string {
		tmpl, err := os.ReadFile(testdata(t, "sipp/"+name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(tmpl), "[pcapdir]", pcapDir)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	uacScenario, uasScenario := scenario("uac_late_offer.xml"), scenario("uas_answer_pcma.xml")
	r := startRingo(t, defaultConfig)
	r.provision()

	type leg struct {
		Leg        string `json:"leg"`
		Codec      string `json:"codec"`
		PacketsIn  uint64 `json:"packetsIn"`
		PacketsOut uint64 `json:"packetsOut"`
	}
	type callView struct {
		ID    string `json:"id"`
		Media string `json:"media"`
		Legs  []leg  `json:"legs"`
	}
	for _, tc := range []struct {
		name   string
		direct bool
	}{
		{"anchored", false},
		{"direct media", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.direct {
				doc := filepath.Join(t.TempDir(), "direct.yaml")
				if err := os.WriteFile(doc, []byte("domains:\n  - name: pbx.test\n    main: true\n    directMedia: true\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				r.apply(doc)
			}
			uasPort := freeUDPPort(t)
			if s, code := sippRegister(t, r, "sipp-register-"+tc.name, "1002", "secret1002", 300, uasPort, uasPort); code != 0 {
				t.Fatalf("registering 1002: SIPp exit code %d; errors: %s", code, tail(s.read("_errors.log"), 5))
			}
			r.waitRegistered("1002@pbx.test", "127.0.0.1:"+itoa(uasPort), 5*time.Second)
			uas := startSipp(t, "sipp-uas-"+tc.name, time.Minute,
				"-sf", uasScenario, "-i", "127.0.0.1", "-p", itoa(uasPort),
				"-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
				"-m", "1", "-trace_msg", "-timeout", "30", "-timeout_error")
			if !waitFor(10*time.Second, func() bool { return uas.proc.exited() || udpBound(uasPort) }) || uas.proc.exited() {
				t.Fatalf("SIPp UAS did not bind 127.0.0.1:%d (exit code %d)", uasPort, uas.proc.exitCode)
			}
			uac := startSipp(t, "sipp-uac-"+tc.name, time.Minute, r.sipAddr(),
				"-sf", uacScenario,
				"-s", "1002", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
				"-i", "127.0.0.1", "-p", itoa(freeUDPPort(t)), "-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
				"-m", "1", "-trace_msg", "-timeout", "30", "-timeout_error", "-recv_timeout", "10000")

			// The live call: anchored, each leg receiving its phone's audio
			// and sending the other's; or direct, with no media session.
			var view callView
			var last []byte
			ok := waitFor(15*time.Second, func() bool {
				status, body := r.api("GET", "/api/v1/calls", r.token(), nil)
				last = body
				var calls []callView
				if status != 200 || json.Unmarshal(body, &calls) != nil || len(calls) != 1 {
					return false
				}
				view = calls[0]
				if tc.direct {
					return true
				}
				flowing := len(view.Legs) == 2
				for _, l := range view.Legs {
					flowing = flowing && l.PacketsIn > 10 && l.PacketsOut > 10
				}
				return flowing
			})
			if !ok {
				t.Fatalf("no live call with media flowing both ways; last view: %s", last)
			}
			if want := map[bool]string{false: "anchored", true: "direct"}[tc.direct]; view.Media != want || tc.direct && len(view.Legs) != 0 {
				t.Fatalf("call media %q, legs %+v; want %s", view.Media, view.Legs, want)
			}
			for _, l := range view.Legs {
				if !strings.Contains(l.Codec, "PCMA") {
					t.Errorf("%s leg codec %q, want PCMA", l.Leg, l.Codec)
				}
			}
			t.Logf("live call: %s", last)

			<-uac.proc.done
			if uac.proc.exitCode != 0 {
				t.Fatalf("SIPp caller: exit code %d; errors: %s", uac.proc.exitCode, tail(uac.read("_errors.log"), 8))
			}
			if code, ok := uas.proc.wait(15 * time.Second); !ok || code != 0 {
				t.Fatalf("SIPp phone: exit code %d (ended %v); errors: %s", code, ok, tail(uas.read("_errors.log"), 8))
			}
			var res struct {
				Records []struct {
					ID      string `json:"id"`
					Outcome string `json:"outcome"`
				} `json:"records"`
			}
			q := url.QueryEscape("account:1002")
			var body []byte
			if !waitFor(10*time.Second, func() bool {
				var status int
				status, body = r.api("GET", "/api/v1/cdr/search?q="+q, r.token(), nil)
				return status == 200 && json.Unmarshal(body, &res) == nil && len(res.Records) > 0 && res.Records[0].ID == view.ID
			}) {
				t.Fatalf("no record of call %s: %s", view.ID, body)
			}
			if res.Records[0].Outcome != "answered" {
				t.Errorf("record: %s", body)
			}
		})
	}
}

package cdr_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrgen"
)

// AppendJSON must write what encoding/json writes (HTML escaping aside,
// which encoding/json adds and a decoder undoes).
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("MSK", 3*3600))
	edge := cdr.Record{
		ID: "e1", CallID: "x@y", Domain: "example.com", Direction: cdr.Internal, Outcome: cdr.Answered,
		Caller:  cdr.Party{Name: "\"Quote\" \\ back\nline\ttab\x01ctl <html> & \u2028 Ёлкин \xff bad"},
		Callee:  cdr.Party{Account: "u1"},
		Created: t0, Answered: t0.Add(time.Second), Bridged: t0.Add(time.Second), Ended: t0.Add(time.Minute),
		Route:      cdr.Route{Target: "only target"},
		Hangup:     cdr.Hangup{SIPCode: 486},
		DTMF:       "12#",
		Variables:  map[string]string{"b": "2", "a": "1", "": "empty key"},
		Recordings: []cdr.Recording{{File: "a.wav"}, {File: "b.wav", Started: t0}},
		Tags:       []string{"vip", ""},
		Legs: []cdr.Leg{{ID: "l1", Party: cdr.Party{Number: "+7"}, Hangup: cdr.Hangup{By: cdr.ByCallee}},
			{ID: "l2", CallID: "c", Parent: "l1", Bridged: "l0", Created: t0, Answered: t0, Ended: t0, Outcome: cdr.Busy}},
		Durations: cdr.Durations{Total: time.Minute, Talk: 59 * time.Second, Ring: time.Second, Hold: 1500 * time.Millisecond},
	}
	recs := []cdr.Record{edge, {ID: "min", Domain: "d", Direction: cdr.Inbound, Outcome: cdr.Failed}}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		recs = append(recs, cdrgen.Record(rng, i, 500))
	}
	for _, r := range recs {
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		got := r.AppendJSON(nil)
		if !bytes.Equal(unescapeHTML(want), got) {
			t.Fatalf("record %s:\n got %s\nwant %s", r.ID, got, want)
		}
		var back cdr.Record
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("record %s: %v", r.ID, err)
		}
		var viaJSON cdr.Record
		json.Unmarshal(want, &viaJSON)
		if !reflect.DeepEqual(back, viaJSON) {
			t.Errorf("record %s decodes differently", r.ID)
		}
	}
}

// unescapeHTML undoes encoding/json's HTML escaping, which AppendJSON does
// not do (the stored JSON is never embedded in HTML).
func unescapeHTML(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte(`\u003c`), []byte("<"))
	b = bytes.ReplaceAll(b, []byte(`\u003e`), []byte(">"))
	return bytes.ReplaceAll(b, []byte(`\u0026`), []byte("&"))
}

func BenchmarkAppendJSON(b *testing.B) {
	r := cdrgen.Record(rand.New(rand.NewPCG(1, 2)), 1, 10)
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(&r)
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = r.AppendJSON(buf[:0])
		}
	})
}

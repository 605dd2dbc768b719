package interop_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// TestDTMFInfoFromSIPp has SIPp call echo@pbx.test and send 1, 2 and # as
// SIP INFO (application/dtmf-relay): each is answered 200, and the live
// call and then its record list them in order, as INFO digits.
func TestDTMFInfoFromSIPp(t *testing.T) {
	interop(t, "sipp")
	r := startRingo(t, defaultConfig)
	r.provision()
	uac := startSipp(t, "sipp-info-1001", time.Minute, r.sipAddr(),
		"-sf", testdata(t, "sipp/uac_info_dtmf.xml"),
		"-s", "echo", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
		"-i", "127.0.0.1", "-p", itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
		"-m", "1", "-trace_msg",
		"-timeout", "30", "-timeout_error", "-recv_timeout", "5000")
	checkLiveDigits(t, r, "12#", "info")
	<-uac.proc.done
	if uac.proc.exitCode != 0 {
		t.Fatalf("SIPp exit code %d", uac.proc.exitCode)
	}
	checkRecordDigits(t, r, "12#")
}

// TestDTMFInbandFromSIPp has SIPp call echo@pbx.test offering PCMU alone,
// no telephone-event, and play a pcap whose audio carries the tones of 4,
// 0 and *: Ringo finds them in the audio, and the live call and then its
// record list them in order, as in-band digits.
func TestDTMFInbandFromSIPp(t *testing.T) {
	interop(t, "sipp")
	dir := t.TempDir()
	pcap := filepath.Join(dir, "inband.pcap")
	if err := writeTonePcap(pcap, "40*"); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(testdata(t, "sipp/uac_inband_dtmf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(dir, "uac_inband_dtmf.xml")
	if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(string(tmpl), "[pcap]", pcap)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startRingo(t, defaultConfig)
	r.provision()
	uac := startSipp(t, "sipp-inband-1001", time.Minute, r.sipAddr(),
		"-sf", scenario,
		"-s", "echo", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
		"-i", "127.0.0.1", "-p", itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
		"-m", "1", "-trace_msg",
		"-timeout", "30", "-timeout_error", "-recv_timeout", "5000")
	checkLiveDigits(t, r, "40*", "inband")
	<-uac.proc.done
	if uac.proc.exitCode != 0 {
		t.Fatalf("SIPp exit code %d", uac.proc.exitCode)
	}
	checkRecordDigits(t, r, "40*")
}

// checkLiveDigits waits for the only live call to show len(want) digits
// and checks them and their source.
func checkLiveDigits(t *testing.T, r *ringo, want, source string) {
	t.Helper()
	type digit struct {
		Digit  string `json:"digit"`
		Source string `json:"source"`
	}
	var view struct {
		Media string  `json:"media"`
		DTMF  []digit `json:"dtmf"`
	}
	var last []byte
	seen := waitFor(15*time.Second, func() bool {
		status, body := r.api("GET", "/api/v1/calls", r.token(), nil)
		var calls []struct {
			ID string `json:"id"`
		}
		if status != 200 || json.Unmarshal(body, &calls) != nil || len(calls) != 1 {
			return false
		}
		status, body = r.api("GET", "/api/v1/calls/"+calls[0].ID, r.token(), nil)
		last = body
		return status == 200 && json.Unmarshal(body, &view) == nil && len(view.DTMF) >= len(want)
	})
	if !seen {
		t.Fatalf("the live call never showed %d digits; last view: %s", len(want), last)
	}
	var got string
	for _, d := range view.DTMF {
		got += d.Digit
		if d.Source != source {
			t.Errorf("digit %s: source %q, want %s", d.Digit, d.Source, source)
		}
	}
	if got != want || view.Media != "echo" {
		t.Errorf("call view: media %q digits %q, want echo and %s: %s", view.Media, got, want, last)
	}
}

// checkRecordDigits waits for the record of the echo call and checks its
// digits.
func checkRecordDigits(t *testing.T, r *ringo, want string) {
	t.Helper()
	var res struct {
		Records []struct {
			DTMF string `json:"dtmf"`
		} `json:"records"`
	}
	var body []byte
	if !waitFor(10*time.Second, func() bool {
		var status int
		status, body = r.api("GET", "/api/v1/cdr/search?q=echo&limit=5", r.token(), nil)
		return status == 200 && json.Unmarshal(body, &res) == nil && len(res.Records) == 1
	}) {
		t.Fatalf("no record of the call: %s", body)
	}
	if got := res.Records[0].DTMF; got != want {
		t.Errorf("record DTMF %q, want %q: %s", got, want, body)
	}
}

// writeTonePcap writes what SIPp's play_pcap_audio plays: a libpcap file
// (link type Ethernet) of IPv4/UDP packets carrying 20 ms of PCMU RTP
// each, stamped 20 ms apart. SIPp sends each packet's UDP payload as it
// is from its media port to the port in the answer, keeping the RTP
// header, and recomputes the UDP checksum, so the addresses and ports
// here only need to be consistent. The audio is 200 ms of silence, then
// per digit 120 ms of its tone and 120 ms of silence, then 300 ms of
// silence so that the last digit's end is heard.
func writeTonePcap(path, digits string) error {
	const frame = 160 // 20 ms at 8 kHz
	var pcm []int16
	silence := func(ms int) { pcm = append(pcm, make([]int16, ms*8)...) }
	silence(200)
	for i := range len(digits) {
		tone, ok := dsp.DTMFTone(digits[i])
		if !ok {
			return os.ErrInvalid
		}
		g, err := dsp.NewToneGenerator(tone, 8000)
		if err != nil {
			return err
		}
		on := make([]int16, 120*8)
		g.Generate(on)
		pcm = append(pcm, on...)
		silence(120)
	}
	silence(300)

	le := binary.LittleEndian
	var out []byte
	// Global header: magic, version 2.4, UTC offset, accuracy, snaplen,
	// link type 1 (Ethernet).
	out = le.AppendUint32(out, 0xa1b2c3d4)
	out = le.AppendUint16(out, 2)
	out = le.AppendUint16(out, 4)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 65535)
	out = le.AppendUint32(out, 1)

	start := time.Unix(1_700_000_000, 0)
	for n := 0; n*frame < len(pcm); n++ {
		payload := make([]byte, frame)
		codec.EncodeULaw(payload, pcm[n*frame:(n+1)*frame])
		rtp := make([]byte, 12, 12+frame)
		rtp[0] = 0x80
		rtp[1] = 0 // PCMU
		if n == 0 {
			rtp[1] |= 0x80 // marker: the start of the talk spurt
		}
		binary.BigEndian.PutUint16(rtp[2:], uint16(1000+n))
		binary.BigEndian.PutUint32(rtp[4:], uint32(16000+n*frame))
		binary.BigEndian.PutUint32(rtp[8:], 0x1d7f0001)
		rtp = append(rtp, payload...)
		pkt := ethIPv4UDP(6000, 6000, rtp)
		at := start.Add(time.Duration(n) * 20 * time.Millisecond)
		out = le.AppendUint32(out, uint32(at.Unix()))
		out = le.AppendUint32(out, uint32(at.Nanosecond()/1000))
		out = le.AppendUint32(out, uint32(len(pkt)))
		out = le.AppendUint32(out, uint32(len(pkt)))
		out = append(out, pkt...)
	}
	return os.WriteFile(path, out, 0o644)
}

// ethIPv4UDP frames a UDP payload from 127.0.0.1:sport to 127.0.0.1:dport.
func ethIPv4UDP(sport, dport uint16, payload []byte) []byte {
	be := binary.BigEndian
	b := make([]byte, 0, 14+20+8+len(payload))
	// Ethernet: destination and source MAC (locally administered), IPv4.
	b = append(b, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1)
	b = be.AppendUint16(b, 0x0800)
	ip := len(b)
	b = append(b, 0x45, 0) // version 4, 20-byte header; DSCP
	b = be.AppendUint16(b, uint16(20+8+len(payload)))
	b = be.AppendUint16(b, 0)      // identification
	b = be.AppendUint16(b, 0x4000) // don't fragment
	b = append(b, 64, 17)          // TTL, UDP
	b = be.AppendUint16(b, 0)      // checksum, below
	b = append(b, 127, 0, 0, 1, 127, 0, 0, 1)
	var sum uint32
	for i := ip; i < ip+20; i += 2 {
		sum += uint32(be.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(b[ip+10:], ^uint16(sum))
	b = be.AppendUint16(b, sport)
	b = be.AppendUint16(b, dport)
	b = be.AppendUint16(b, uint16(8+len(payload)))
	b = be.AppendUint16(b, 0) // no checksum: SIPp computes its own
	return append(b, payload...)
}

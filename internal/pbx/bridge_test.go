package pbx

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pion/rtp"

	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store"
)

// mediaCall is a scriptedCall with a real media session towards a UDP
// "phone".
type mediaCall struct {
	*scriptedCall
	sess  *media.Session
	phone *net.UDPConn
}

func (c *mediaCall) Session() *media.Session {
	if c.Mode() == callapi.Disconnected {
		return nil
	}
	return c.sess
}

func newMediaCall(t *testing.T, e *media.Engine) *mediaCall {
	t.Helper()
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phone.Close() })
	s, err := e.NewSession(media.SessionOptions{Name: "caller", RTCPMux: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pcmu := media.Format{PT: 0, Codec: media.Codec{Name: media.NamePCMU, ClockRate: 8000}}
	if err := s.SetRemote(media.Params{Remote: phone.LocalAddr().(*net.UDPAddr).AddrPort(), Codecs: []media.Format{pcmu},
		PTime: 20 * time.Millisecond, RTCPMux: true, Proto: "RTP/AVP"}); err != nil {
		t.Fatal(err)
	}
	return &mediaCall{scriptedCall: newScriptedCall(), sess: s, phone: phone}
}

// hears reports whether to's phone gets the packet from's phone sends
// through Ringo (a payload of marker bytes).
func hears(t *testing.T, from, to *mediaCall, marker byte) bool {
	t.Helper()
	buf := make([]byte, 1500)
	deadline := time.Now().Add(3 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000*int(marker) + i),
			Timestamp: uint32(160 * i), SSRC: uint32(marker)}, Payload: []byte(strings.Repeat(string([]byte{marker}), 160))}
		b, _ := pkt.Marshal()
		from.phone.WriteToUDPAddrPort(b, from.sess.LocalAddr())
		to.phone.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		for {
			n, err := to.phone.Read(buf)
			if err != nil {
				break
			}
			var got rtp.Packet
			if got.Unmarshal(buf[:n]) == nil && len(got.Payload) > 0 && got.Payload[0] == marker {
				return true
			}
		}
	}
	return false
}

func TestBridgeTwoTasks(t *testing.T) {
	e, err := media.NewEngine(context.Background(), media.EngineConfig{BindAddr: netip.MustParseAddr("127.0.0.1"),
		PortMin: 44000, PortMax: 44999, ClockShards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var mu sync.Mutex
	var logs []string
	env := fsEnv{fstest.MapFS{
		"agent.sppr": {Data: []byte(`entry Main is
  AcceptCall();
  CreateMeeting("agents", "1");
  ActivateMeeting("agents", "1");
  loop
    x = ReadInput(30);
    if IsStartBridgeEvent(x) then
      if AcceptBridge(x) == null then SysLog("bridged"); end if;
    elif IsBreakBridgeEvent(x) then
      SysLog("broken");
      stop;
    end if;
    exitif IsDisconnectEvent(x);
  end loop;
end;
`)},
		"caller.sppr": {Data: []byte(`entry Main is
  m = FindMeeting("agents", "1");
  if not IsDictionary(m) then SysLog("no agent"); stop; end if;
  err = StartBridge(m.id);
  if err != null then SysLog("StartBridge: " + err); stop; end if;
  SysLog("connected");
  loop
    x = ReadInput(30);
    exitif IsDisconnectEvent(x) or IsBreakBridgeEvent(x);
  end loop;
end;
`)},
	}}
	agentWaiting := make(chan struct{})
	var once sync.Once
	m := NewManager(context.Background(), Config{Env: env, OnWait: func(tk *Task) {
		if tk.app == "agent" {
			once.Do(func() { close(agentWaiting) })
		}
	}, Trace: func(ev TraceEvent) {
		mu.Lock()
		logs = append(logs, ev.App+" "+ev.Kind+" "+ev.Detail)
		mu.Unlock()
	}})
	defer m.Close()
	owner := &store.Account{Name: "queue", Domain: "example.com"}
	agentCall, callerCall := newMediaCall(t, e), newMediaCall(t, e)
	agent, err := m.Start("agent", owner, agentCall, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("%s; trace %v", what, logs)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	has := func(s string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, l := range logs {
				if strings.Contains(l, s) {
					return true
				}
			}
			return false
		}
	}
	// The agent is in its meeting once it waits for input.
	<-agentWaiting
	if _, err := m.Start("caller", owner, callerCall, "", nil); err != nil {
		t.Fatal(err)
	}
	waitFor("the agent accepted the bridge", has("bridge accepted"))
	if got := strings.Join(callerCall.Actions(), "|"); got != "accept" {
		t.Fatalf("the waiting caller's call: %s, want accepted by the bridge", got)
	}
	if !hears(t, callerCall, agentCall, 0x11) || !hears(t, agentCall, callerCall, 0x22) {
		t.Fatal("the bridged callers do not hear each other")
	}
	// The caller hangs up: the agent's task hears that the bridge broke.
	callerCall.h.Disconnected("hangup")
	waitTask(t, m, agent.ID())
	waitFor("the agent saw the bridge break", has("agent end"))
}

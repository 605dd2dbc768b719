package pbx

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

var promptLimits = wav.Limits{MaxDuration: 30 * time.Minute}

// maxRecord bounds Record(secs).
const maxRecord = 10 * time.Minute

// registerCallFuncs binds the call-control built-ins to a task's call. A
// task without a call (spawned, or run with none) gets each function's
// no-call behaviour, as Declare registers it.
func registerCallFuncs(reg *cgpl.Registry) {
	noCall := map[string]cgpl.Func{}
	for _, f := range callFuncs() {
		g, _ := reg.Lookup(f.name)
		noCall[strings.ToLower(f.name)] = *g
	}
	bind := func(name string, min, max int, proc bool, fn func(tk *Task, a []cgpl.Value) (cgpl.Value, error)) {
		fallback, hasFallback := noCall[strings.ToLower(name)]
		reg.Register(cgpl.Func{Name: name, MinArgs: min, MaxArgs: max, Procedure: proc,
			Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
				tk := taskOf(t)
				if tk == nil || tk.call == nil {
					if hasFallback {
						return fallback.Fn(t, a)
					}
					return nil, nil
				}
				return fn(tk, a)
			}})
	}

	bind("AcceptCall", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		err := tk.call.Accept(tk.t.Context())
		tk.trace(TraceEvent{Kind: "accept", Err: errString(err)})
		return errValue(err), nil
	})
	bind("ProvisionCall", 1, 2, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		withMedia := a[0] != nil
		if d, ok := a[0].(*cgpl.Dict); ok {
			withMedia = d.Get("media") != nil
		}
		return errValue(tk.call.Provision(tk.t.Context(), withMedia)), nil
	})
	bind("RejectCall", 1, 1, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		code, reason := 603, "Decline"
		switch v := a[0].(type) {
		case cgpl.Number:
			code, reason = int(v), ""
		case cgpl.String:
			reason = string(v)
		case *cgpl.Dict:
			if n, ok := v.Get("responseCode").(cgpl.Number); ok {
				code, reason = int(n), ""
			}
			if s, ok := v.Get("responseText").(cgpl.String); ok {
				reason = string(s)
			}
		}
		if code < 400 || code > 699 {
			code = 603
		}
		tk.trace(TraceEvent{Kind: "reject", Detail: strconv.Itoa(code) + " " + reason})
		if err := tk.call.Reject(code, reason); err != nil {
			tk.log.Info("RejectCall", "error", err)
		}
		return nil, nil
	})
	bind("RedirectCall", 1, 1, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		target := firstAddress(a[0])
		err := tk.call.Redirect(tk.t.Context(), target)
		tk.trace(TraceEvent{Kind: "redirect", Detail: target, Err: errString(err)})
		if err != nil {
			tk.log.Info("RedirectCall", "to", target, "error", err)
		}
		return nil, nil
	})
	bind("TransferCall", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		// The caller hears ringing while the target's phones ring.
		if pl := tk.ensurePlayer(); pl != nil {
			pl.Stop()
			pl.Enqueue(media.Item{Tone: dsp.RingbackTone()})
		}
		tk.trace(TraceEvent{Kind: "transfer", Detail: firstAddress(a[0])})
		err := tk.call.Transfer(tk.t.Context(), firstAddress(a[0]))
		if err != nil {
			tk.trace(TraceEvent{Kind: "transfer failed", Detail: firstAddress(a[0]), Err: err.Error()})
		}
		tk.stopPlaying()
		return errValue(err), nil
	})
	bind("TransferSupported", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		return boolValue(tk.call.Mode() == callapi.Connected), nil
	})
	bind("Disconnect", 0, 2, true, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		tk.trace(TraceEvent{Kind: "hangup", Detail: "Disconnect"})
		tk.stopPlaying()
		tk.call.Hangup("program disconnected")
		return nil, nil
	})
	bind("IsConnected", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		return boolValue(tk.call.Mode() == callapi.Connected), nil
	})
	bind("IsHalfConnected", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		m := tk.call.Mode()
		return boolValue(m == callapi.Connected || m == callapi.Provisioned), nil
	})
	info := func(name string, get func(callapi.Info) string) {
		bind(name, 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
			if v := get(tk.call.Info()); v != "" {
				return cgpl.String(v), nil
			}
			return nil, nil
		})
	}
	info("RemoteURI", func(i callapi.Info) string { return i.RemoteURI })
	info("LocalURI", func(i callapi.Info) string { return i.LocalURI })
	info("IncomingRequestURI", func(i callapi.Info) string { return i.RequestURI })
	info("RemoteAuthentication", func(i callapi.Info) string { return i.Authenticated })
	bind("RemoteIPAddress", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		ip := tk.call.Info().RemoteIP
		if ip == "" {
			return nil, nil
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, nil
		}
		return cgpl.IP{Addr: a}, nil
	})
	bind("PendingRequestData", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		field, _ := a[0].(cgpl.String)
		return pendingRequestData(tk.call.Info(), string(field)), nil
	})
	bind("RouteLocalURI", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		s, ok := a[0].(cgpl.String)
		if !ok || tk.m.cfg.Directory == nil {
			return nil, nil
		}
		if acc, ok := tk.m.cfg.Directory.RouteLocal(string(s), tk.owner.Domain); ok {
			return cgpl.String(acc), nil
		}
		return nil, nil
	})

	bind("DTMF", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		tk.mu.Lock()
		defer tk.mu.Unlock()
		return cgpl.String(tk.dtmf), nil
	})
	bind("ClearDTMF", 0, 0, true, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		tk.mu.Lock()
		tk.dtmf = tk.dtmf[:0]
		tk.mu.Unlock()
		return nil, nil
	})
	bind("SetInterruptOnDTMF", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		tk.mu.Lock()
		defer tk.mu.Unlock()
		old := tk.interrupt
		tk.interrupt = a[0] != nil
		return boolValue(old), nil
	})
	bind("SendDTMF", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		s, ok := a[0].(cgpl.String)
		if !ok || len(s) == 0 {
			return cgpl.String("not a DTMF symbol"), nil
		}
		return errValue(tk.call.SendDTMF(string(s))), nil
	})

	bind("PlayFile", 1, 2, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		name, ok := a[0].(cgpl.String)
		if !ok {
			return nil, cgpl.Throw("PlayFile: the file name must be a string")
		}
		tk.playFile(string(name), msecArg(a, 1))
		return nil, nil
	})
	bind("Play", 1, 2, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		data, ok := a[0].(cgpl.Data)
		if !ok {
			return nil, cgpl.Throw("Play: the media must be a datablock")
		}
		tk.playData(data, msecArg(a, 1))
		return nil, nil
	})
	bind("PlayTone", 2, 4, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		f1, _ := a[0].(cgpl.Number)
		ms, _ := a[1].(cgpl.Number)
		var f2 cgpl.Number
		if len(a) > 2 {
			f2, _ = a[2].(cgpl.Number)
		}
		tk.playTone(float64(f1), float64(f2), time.Duration(ms)*time.Millisecond)
		return nil, nil
	})
	bind("IsPlayCompleted", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		return boolValue(tk.completed), nil
	})
	bind("GetPlayPosition", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		return cgpl.Number(tk.played.Milliseconds()), nil
	})
	bind("SetPlayPosition", 1, 1, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		ms, _ := a[0].(cgpl.Number)
		tk.startAt = max(time.Duration(ms)*time.Millisecond, 0)
		return nil, nil
	})
	// Ringo's own: conference rooms without CommuniGate's task bridging.
	bind("ConferenceJoin", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		room, ok := a[0].(cgpl.String)
		if !ok {
			if n, isNum := a[0].(cgpl.Number); isNum {
				room, ok = cgpl.String(strconv.FormatInt(int64(n), 10)), true
			}
		}
		if !ok {
			return cgpl.String("the room must be a string or a number"), nil
		}
		if tk.player != nil {
			tk.player.Close()
			tk.player, tk.playerOn = nil, nil
		}
		return errValue(tk.call.JoinConference(string(room))), nil
	})
	bind("ConferenceSize", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		var room string
		switch v := a[0].(type) {
		case cgpl.String:
			room = string(v)
		case cgpl.Number:
			room = strconv.FormatInt(int64(v), 10)
		}
		return cgpl.Number(tk.call.ConferenceSize(room)), nil
	})
	bind("Record", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		secs, _ := a[0].(cgpl.Number)
		return tk.record(time.Duration(secs) * time.Second), nil
	})

	registerBridgeFuncs(reg, bind)

	// ReadInput: digits first, then events (one-character strings, event
	// dictionaries, null on timeout).
	reg.Register(cgpl.Func{Name: "ReadInput", MinArgs: 1, MaxArgs: 1, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		secs, _ := a[0].(cgpl.Number)
		d := time.Duration(secs) * time.Second
		if tk := taskOf(t); tk != nil && tk.call != nil {
			return tk.readInput(d)
		}
		return t.ReadEvent(d)
	}})
	reg.Register(cgpl.Func{Name: "IsDisconnectEvent", MinArgs: 1, MaxArgs: 1, Fn: func(_ *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		return boolValue(isSystemEvent(a[0], disconnectEvent)), nil
	}})
}

// isSystemEvent reports whether v is the system event what: a dictionary
// without a sender.
func isSystemEvent(v cgpl.Value, what string) bool {
	d, ok := v.(*cgpl.Dict)
	if !ok || d.Get("sender") != nil {
		return false
	}
	w, _ := d.Get("what").(cgpl.String)
	return strings.EqualFold(string(w), what)
}

// errValue is a result as CG/PL functions give it: null, or the error's
// text.
func errValue(err error) cgpl.Value {
	if err == nil {
		return nil
	}
	return cgpl.String(err.Error())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func boolValue(b bool) cgpl.Value {
	if b {
		return cgpl.Yes
	}
	return nil
}

// msecArg is the optional msec argument of the Play functions: 0 when
// absent (play it all), negative to loop.
func msecArg(a []cgpl.Value, i int) time.Duration {
	if len(a) <= i {
		return 0
	}
	n, _ := a[i].(cgpl.Number)
	return time.Duration(n) * time.Millisecond
}

// firstAddress is the address of a RedirectCall/TransferCall argument: a
// string or the first of an array.
func firstAddress(v cgpl.Value) string {
	switch x := v.(type) {
	case cgpl.String:
		return string(x)
	case *cgpl.Array:
		if len(x.Elems) > 0 {
			return firstAddress(x.Elems[0])
		}
	}
	return ""
}

// pendingRequestData answers PendingRequestData(field) from what the call
// tells of its INVITE.
func pendingRequestData(in callapi.Info, field string) cgpl.Value {
	switch strings.ToLower(field) {
	case "call-id":
		return cgpl.String(in.CallID)
	case "from":
		d := cgpl.NewDict()
		d.Set("", cgpl.String(strings.TrimPrefix(in.RemoteURI, "sip:")))
		return d
	case "to":
		d := cgpl.NewDict()
		d.Set("", cgpl.String(strings.TrimPrefix(in.LocalURI, "sip:")))
		return d
	}
	for k, v := range in.Headers {
		if strings.EqualFold(k, field) {
			return cgpl.String(v)
		}
	}
	return nil
}

// session is the call's media session, or nil with no media (the play
// functions then return at once, as CommuniGate's do).
func (tk *Task) session() *media.Session {
	if tk.call == nil {
		return nil
	}
	return tk.call.Session()
}

// ensurePlayer keeps one player per session, open for the whole call so
// prompts follow one another on one RTP stream (silence in between).
func (tk *Task) ensurePlayer() *media.Player {
	ms := tk.session()
	if ms == nil {
		return nil
	}
	if tk.player != nil && tk.playerOn == ms {
		select {
		case <-tk.playback.Done():
			// Stopped under it (a bridge, a conference): start again.
		default:
			return tk.player
		}
	}
	if tk.player != nil {
		tk.player.Close()
	}
	pl, pb, err := ms.StartPlayer(tk.m.cfg.Prompts, media.PlayerOptions{KeepOpen: true})
	if err != nil {
		tk.log.Info("no player", "error", err)
		tk.player, tk.playerOn, tk.playback = nil, nil, nil
		return nil
	}
	tk.player, tk.playerOn, tk.playback = pl, ms, pb
	return pl
}

func (tk *Task) stopPlaying() {
	if tk.player != nil {
		tk.player.Stop()
	}
}

// playFile is PlayFile: the file is found in the task's environments.
func (tk *Task) playFile(name string, msec time.Duration) {
	tk.completed, tk.played = false, 0
	if tk.shouldInterrupt() {
		return
	}
	pl := tk.ensurePlayer()
	rate := 8000
	if pl != nil {
		rate = pl.Rate()
	}
	f, err := tk.m.cfg.Env.Open(tk.owner.Domain, tk.t.Language(), name)
	if err != nil {
		// A missing prompt is the integrator's to fix: logged, not fatal.
		tk.log.Warn("PlayFile", "file", name, "error", err)
		tk.trace(TraceEvent{Kind: "play", Detail: name, Err: err.Error()})
		return
	}
	var p *media.Prompt
	if f.Path != "" {
		p, err = tk.m.cfg.Prompts.Load(f.Path, rate)
	} else {
		p, err = tk.m.cfg.Prompts.LoadBytes(f.Layer+"/"+f.Name, f.Data, rate)
	}
	if err != nil {
		tk.log.Warn("PlayFile", "file", f.Name, "error", err)
		tk.trace(TraceEvent{Kind: "play", Detail: name, File: f.Layer + "/" + f.Name, Err: err.Error()})
		return
	}
	tk.log.Info("play", "file", name, "resolved", f.Layer+"/"+f.Name)
	tk.trace(TraceEvent{Kind: "play", Detail: name, File: f.Layer + "/" + f.Name, Length: p.Duration()})
	if pl == nil {
		return
	}
	tk.playPrompt(pl, p, msec)
}

// playData is Play: a WAV datablock.
func (tk *Task) playData(data []byte, msec time.Duration) {
	pl := tk.ensurePlayer()
	tk.completed, tk.played = false, 0
	if pl == nil {
		return
	}
	p, err := media.DecodePrompt("datablock", data, pl.Rate(), promptLimits)
	if err != nil {
		tk.log.Warn("Play", "error", err)
		return
	}
	tk.playPrompt(pl, p, msec)
}

func (tk *Task) playPrompt(pl *media.Player, p *media.Prompt, msec time.Duration) {
	if tk.startAt > 0 {
		off := int(int64(tk.startAt) * int64(p.Rate) / int64(time.Second))
		tk.startAt = 0
		if off >= len(p.Samples) {
			tk.completed = true
			return
		}
		p = &media.Prompt{Name: p.Name, Rate: p.Rate, Samples: p.Samples[off:]}
	}
	it := media.Item{Prompt: p}
	switch {
	case msec < 0:
		it.Loop = -1
	case msec > 0:
		it.Max, it.Loop = msec, -1
	}
	tk.playItem(pl, it)
}

func (tk *Task) playTone(f1, f2 float64, d time.Duration) {
	pl := tk.ensurePlayer()
	tk.completed, tk.played = false, 0
	if pl == nil || d <= 0 {
		return
	}
	// −10 dBm0 per frequency: clearly audible, far from clipping.
	tone := dsp.Tone{Freqs: [2]float64{f1, f2}, Levels: [2]float64{-10, -10}}
	tk.playItem(pl, media.Item{Tone: tone, Max: d})
}

// playItem plays one item and waits until it ends, or until a digit (with
// interrupt on), an event or the end of the call cuts it short.
func (tk *Task) playItem(pl *media.Player, it media.Item) {
	if tk.shouldInterrupt() {
		return
	}
	id, err := pl.Enqueue(it)
	if err != nil {
		tk.log.Warn("play", "error", err)
		return
	}
	ctx := tk.t.Context()
	for {
		select {
		case ev := <-pl.Events():
			if ev.ID != id {
				continue
			}
			tk.played = ev.Played
			tk.completed = ev.End == media.EndDone || ev.End == media.EndTruncated
			return
		case <-tk.wake:
			// Put the signal back for ReadInput, then decide.
			select {
			case tk.wake <- struct{}{}:
			default:
			}
			if tk.shouldInterrupt() {
				tk.cut(pl, id)
				return
			}
		case <-tk.gone:
			tk.cut(pl, id)
			return
		case <-ctx.Done():
			pl.Stop()
			return
		case <-time.After(50 * time.Millisecond):
			// Events queued by other tasks wake nobody: look now and then.
			if tk.shouldInterrupt() {
				tk.cut(pl, id)
				return
			}
		}
	}
}

// cut stops item id and notes how much of it played.
func (tk *Task) cut(pl *media.Player, id uint64) {
	tk.played = pl.Position()
	pl.Stop()
	timeout := time.After(time.Second)
	for {
		select {
		case ev := <-pl.Events():
			if ev.ID == id {
				tk.played = ev.Played
				return
			}
		case <-timeout:
			return
		}
	}
}

// shouldInterrupt: a digit waits (with interrupt on), an event is queued,
// or the call is gone.
func (tk *Task) shouldInterrupt() bool {
	select {
	case <-tk.gone:
		return true
	default:
	}
	tk.mu.Lock()
	digits := tk.interrupt && len(tk.dtmf) > 0
	tk.mu.Unlock()
	return digits || len(tk.t.Events()) > 0
}

// record is Record(max): the caller's audio as a WAV datablock, or null
// when nothing could be recorded.
func (tk *Task) record(limit time.Duration) cgpl.Value {
	ms := tk.session()
	if ms == nil || tk.shouldInterrupt() {
		return nil
	}
	if limit <= 0 || limit > maxRecord {
		limit = maxRecord
	}
	tk.stopPlaying()
	r, err := media.Record(ms, nil, media.RecorderOptions{MaxLength: limit})
	if err != nil {
		tk.log.Warn("Record", "error", err)
		return nil
	}
	ctx := tk.t.Context()
wait:
	for {
		select {
		case <-r.Done():
			break wait
		case <-tk.wake:
			select {
			case tk.wake <- struct{}{}:
			default:
			}
			if tk.shouldInterrupt() {
				r.Stop()
			}
		case <-tk.gone:
			r.Stop()
		case <-ctx.Done():
			r.Stop()
		case <-time.After(50 * time.Millisecond):
			if tk.shouldInterrupt() {
				r.Stop()
			}
		}
	}
	res := r.Result()
	if res.Err != nil || len(res.WAV) == 0 {
		if res.Err != nil {
			tk.log.Warn("Record", "error", res.Err)
		}
		return nil
	}
	return cgpl.Data(res.WAV)
}

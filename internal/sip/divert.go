package sip

import (
	"github.com/ringo-pbx/ringo/internal/router"
)

// maxDiverts bounds how many rules one call may follow, so that rules
// diverting to each other cannot loop.
const maxDiverts = 5

// divertOnFailureLocked applies the busy or no-answer rule of the called
// account when every phone failed with code; it reports whether the call
// went elsewhere.
func (c *call) divertOnFailureLocked(code int) bool {
	a := c.rulesOf
	if a == nil || c.app != nil {
		return false
	}
	var target router.Target
	var ok bool
	switch {
	case router.IsBusy(code):
		target, ok = router.OnBusy(a)
	case code == 408 || code == 480:
		target, _, ok = router.OnNoAnswer(a)
	}
	if !ok {
		return false
	}
	return c.divertLocked(target)
}

// noAnswerRule fires the called account's no-answer rule on a call still
// ringing after the rule's time.
func (c *call) noAnswerRule() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.divertAt.Store(0)
	if c.finalSent || c.state != stateRinging || c.rulesOf == nil {
		return
	}
	if target, _, ok := router.OnNoAnswer(c.rulesOf); ok {
		c.divertLocked(target)
	}
}

// divertLocked sends a ringing call to a rule's target: the phones that
// ring are cancelled, and the call goes to the account's program or to
// another address. It reports false when the target cannot take it.
func (c *call) divertLocked(target router.Target) bool {
	s := c.s
	owner := c.rulesOf
	via := "rule " + target.Kind
	var bindingsFn func()
	if target.App == "" {
		next, _, err := s.resolveTarget(target.Address, owner.Domain)
		if err != nil {
			c.log.Warn("a rule diverts to an unknown address; ignored", "rule", target.Kind, "to", target.Address)
			return false
		}
		bindings := s.loc.Lookup(next.Name + "@" + next.Domain)
		if len(bindings) == 0 {
			c.log.Info("the rule's target has no registered phone", "rule", target.Kind, "to", target.Address)
			return false
		}
		if err := c.calleeMediaLocked(); err != nil {
			c.log.Warn("divert: no media for the new callee", "error", err)
			return false
		}
		c.calleeURI, c.calleeName = calleeURI(next), next.RealName
		c.rec.want = c.rec.want || recordsCalls(next)
		bindingsFn = func() { c.fork(bindings) }
	} else if s.apps.Load() == nil {
		return false
	}
	for _, f := range c.forks {
		c.cancelForkLocked(f)
		f.stale = true
	}
	c.forks, c.bestFail = nil, nil
	c.via = joinVia(c.via, via)
	c.rulesOf = nil // one divert per ringing stage; the next target's rules start over
	c.divertAt.Store(0)
	c.log.Info("diverted", "rule", target.Kind, "to", target.String())
	if bindingsFn != nil {
		go bindingsFn()
		return true
	}
	// A program of the account takes the call: its media is the caller's
	// session alone.
	if c.m != nil && c.m.b != nil {
		if c.m.bridge != nil {
			c.m.bridge.Stop()
			c.m.bridge = nil
		}
		s.closeSession(c.m.b)
		c.m.b = nil
	}
	c.app = &appState{name: target.App, owner: owner, via: via}
	c.calleeURI, c.calleeName = calleeURI(owner), owner.RealName
	apps := *s.apps.Load()
	go func() {
		if err := apps.StartCall(target.App, owner, &appCall{c: c}, via); err != nil {
			c.log.Warn("application not started", "app", target.App, "error", err)
			c.mu.Lock()
			c.rejectLocked(480, "Temporarily Unavailable")
			c.mu.Unlock()
		}
	}()
	return true
}

package pbx

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/mail"
)

// taskKey finds the task in its context, for what the library does on a
// task's behalf (mail).
type taskKey struct{}

// tracingMailer notes each message a task sends in its trace.
type tracingMailer struct{ Mailer }

func (m tracingMailer) Send(ctx context.Context, msg mail.Message) error {
	err := m.Mailer.Send(ctx, msg)
	if tk, ok := ctx.Value(taskKey{}).(*Task); ok {
		tk.trace(TraceEvent{Kind: "mail", Detail: "to " + strings.Join(msg.To, ", ") + " subject " + strconv.Quote(msg.Subject),
			Err: errString(err)})
	}
	return err
}

// TraceEvent is one thing a task did, for `ringo sim` transcripts and the
// logs: Kind is start, accept, reject, redirect, transfer, play, input,
// mail, hangup, exception or end.
type TraceEvent struct {
	Task   string        `json:"task"`
	App    string        `json:"app"`
	Owner  string        `json:"owner"`
	Kind   string        `json:"kind"`
	Detail string        `json:"detail,omitempty"`
	File   string        `json:"file,omitempty"`   // a prompt as resolved: layer/path
	Length time.Duration `json:"length,omitempty"` // a prompt's length
	Err    string        `json:"error,omitempty"`
}

// trace reports ev for task tk when the manager has a tracer.
func (tk *Task) trace(ev TraceEvent) {
	f := tk.m.cfg.Trace
	if f == nil {
		return
	}
	ev.Task, ev.App, ev.Owner = tk.id, tk.app, tk.owner.Name+"@"+tk.owner.Domain
	f(ev)
}

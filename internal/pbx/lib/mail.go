// Package lib holds the CG/PL built-ins that lend PBX programs the
// server's services: e-mail (SendEMail, SubmitEMail) and HTTP (HTTPCall).
// Each family comes as a slice of cgpl.Func for a host to register:
//
//	for _, f := range lib.MailFuncs(sender) {
//		reg.Register(f)
//	}
//
// As in CommuniGate Pro, these functions report failure by returning an
// error string, never by ending the task: a relay that is down, a bad
// address or an unreachable web service is something a program handles.
package lib

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/ringo-pbx/ringo/cgpl"
	rmail "github.com/ringo-pbx/ringo/internal/mail"
)

// Mailer sends a message; *mail.Sender is one (a nil one reports that no
// relay is configured).
type Mailer interface {
	Send(ctx context.Context, m rmail.Message) error
}

// MailFuncs returns SendEMail and SubmitEMail over m. With a nil m they
// return "no SMTP relay configured".
func MailFuncs(m Mailer) []cgpl.Func {
	send := func(t *cgpl.Task, msg rmail.Message) cgpl.Value {
		if m == nil {
			return cgpl.String(rmail.ErrNoRelay.Error())
		}
		if strings.TrimSpace(msg.From) == "" {
			msg.From = t.Email() // the task's owner; else the relay's default sender
		}
		if err := m.Send(t.Context(), msg); err != nil {
			return cgpl.String(err.Error())
		}
		return nil
	}
	return []cgpl.Func{
		// SendEMail(fromAddress, subject, to, headers, content): the three
		// first override the headers when not null.
		{Name: "SendEMail", MinArgs: 5, MaxArgs: 5, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
			hdrs, ok := a[3].(*cgpl.Dict)
			if !ok && a[3] != nil {
				return cgpl.String("SendEMail: the headers must be a dictionary or null"), nil
			}
			msg, err := messageOf(t, hdrs, a[4])
			if err != nil {
				return cgpl.String("SendEMail: " + err.Error()), nil
			}
			if a[0] != nil {
				msg.From = text(a[0])
			}
			if a[1] != nil {
				msg.Subject = text(a[1])
			}
			if a[2] != nil {
				msg.To = addressesOf(t, a[2])
			}
			return send(t, msg), nil
		}},
		// SubmitEMail(headers, content).
		{Name: "SubmitEMail", MinArgs: 2, MaxArgs: 2, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
			hdrs, ok := a[0].(*cgpl.Dict)
			if !ok {
				return cgpl.String("SubmitEMail: the headers must be a dictionary"), nil
			}
			msg, err := messageOf(t, hdrs, a[1])
			if err != nil {
				return cgpl.String("SubmitEMail: " + err.Error()), nil
			}
			return send(t, msg), nil
		}},
	}
}

// text is a value as header or body text: strings and datablocks as they
// are, arrays as comma-separated lists, anything else in its textual form.
func text(v cgpl.Value) string {
	switch x := v.(type) {
	case nil:
		return ""
	case cgpl.String:
		return string(x)
	case cgpl.Data:
		return string(x)
	case *cgpl.Array:
		s := make([]string, 0, len(x.Elems))
		for _, e := range x.Elems {
			s = append(s, text(e))
		}
		return strings.Join(s, ", ")
	}
	return cgpl.ObjectToString(v)
}

var bareName = regexp.MustCompile(`^[A-Za-z0-9._+=-]+$`)

// addressesOf reads a string (a comma-separated list) or an array of them.
// A bare account name gets the task's domain, as a local address does in
// CommuniGate ("ivanov" is ivanov@ the task owner's domain).
func addressesOf(t *cgpl.Task, v cgpl.Value) []string {
	if arr, ok := v.(*cgpl.Array); ok {
		var out []string
		for _, e := range arr.Elems {
			out = append(out, addressesOf(t, e)...)
		}
		return out
	}
	s := strings.TrimSpace(text(v))
	if s == "" {
		return nil
	}
	domain := ""
	if i := strings.LastIndexByte(t.Email(), '@'); i >= 0 {
		domain = t.Email()[i+1:]
	}
	if domain == "" || strings.ContainsAny(s, `"<(`) {
		return []string{s}
	}
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if bareName.MatchString(a) {
			a += "@" + domain
		}
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// maxDepth bounds the nesting of content arrays and dictionaries, which
// may even hold themselves.
const maxDepth = 8

// messageOf builds a message from CG/PL headers and content.
func messageOf(t *cgpl.Task, h *cgpl.Dict, content cgpl.Value) (rmail.Message, error) {
	var m rmail.Message
	if h != nil {
		for _, k := range h.Keys() {
			v := h.Get(k)
			switch strings.ToLower(k) {
			case "from":
				m.From = text(v)
			case "to":
				m.To = addressesOf(t, v)
			case "cc":
				m.Cc = addressesOf(t, v)
			case "bcc":
				m.Bcc = addressesOf(t, v)
			case "subject":
				m.Subject = text(v)
			case "message-id":
				m.MessageID = text(v)
			case "date":
				switch d := v.(type) {
				case cgpl.Time:
					if d.Special == 0 {
						m.Date = d.T
					}
				default:
					tm, err := mail.ParseDate(text(v))
					if err != nil {
						return m, fmt.Errorf("the Date header %q: %w", text(v), err)
					}
					m.Date = tm
				}
			default:
				m.Header = append(m.Header, rmail.Field{Name: k, Value: text(v)})
			}
		}
	}
	body, err := partOf(content, 0)
	if err != nil {
		return m, err
	}
	m.Body = body
	return m, nil
}

// partOf converts content: a string is UTF-8 text, a datablock binary
// data, an array a multipart/mixed body of its elements, and a dictionary
// {body, Content-Type, Content-Subtype, filename, Content-Disposition,
// Content-ID, Content-Description} one part described.
func partOf(v cgpl.Value, depth int) (rmail.Part, error) {
	if depth > maxDepth {
		return rmail.Part{}, errors.New("the content is nested too deep")
	}
	switch x := v.(type) {
	case nil:
		return rmail.Text(""), nil
	case cgpl.String:
		return rmail.Text(string(x)), nil
	case cgpl.Data:
		return rmail.Part{ContentType: "application/octet-stream", Data: x}, nil
	case *cgpl.Array:
		if len(x.Elems) == 0 {
			return rmail.Text(""), nil
		}
		p := rmail.Mixed()
		for _, e := range x.Elems {
			sub, err := partOf(e, depth+1)
			if err != nil {
				return p, err
			}
			p.Parts = append(p.Parts, sub)
		}
		return p, nil
	case *cgpl.Dict:
		p, err := partOf(x.Get("body"), depth+1)
		if err != nil {
			return p, err
		}
		ctype, sub := strings.TrimSpace(text(x.Get("Content-Type"))), strings.TrimSpace(text(x.Get("Content-Subtype")))
		switch {
		case ctype != "" && strings.Contains(ctype, "/"):
			p.ContentType = ctype
		case ctype != "":
			if sub == "" {
				sub = defaultSubtype(ctype)
			}
			p.ContentType = ctype + "/" + sub
		case sub != "" && len(p.Parts) > 0:
			p.ContentType = "multipart/" + sub
		}
		p.Filename = text(x.Get("filename"))
		p.Disposition = text(x.Get("Content-Disposition"))
		for _, k := range []string{"Content-ID", "Content-Description"} {
			if s := text(x.Get(k)); s != "" {
				p.Header = append(p.Header, rmail.Field{Name: k, Value: s})
			}
		}
		return p, nil
	}
	return rmail.Text(text(v)), nil
}

func defaultSubtype(ctype string) string {
	switch strings.ToLower(ctype) {
	case "text":
		return "plain"
	case "multipart":
		return "mixed"
	}
	return "octet-stream"
}

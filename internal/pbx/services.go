package pbx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	"github.com/ringo-pbx/ringo/internal/mail"
)

// Mailer sends e-mail for programs; *mail.Sender is one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Services are what the host lends programs beyond calls. A nil Mailer or
// HTTP client makes the functions report an error string, as CG/PL
// functions do, rather than fail the task.
type Services struct {
	Mail Mailer
	HTTP *http.Client
	// MaxHTTPBody bounds a response body read into a program (default 4 MiB).
	MaxHTTPBody int64
}

// RegisterServices registers SendEMail, SubmitEMail and HTTPCall over svc.
func RegisterServices(reg *cgpl.Registry, svc Services) {
	reg.Register(cgpl.Func{Name: "SendEMail", MinArgs: 5, MaxArgs: 5, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		hdrs, _ := a[3].(*cgpl.Dict)
		m, err := messageOf(hdrs, a[4])
		if err != nil {
			return cgpl.String(err.Error()), nil
		}
		if s, ok := a[0].(cgpl.String); ok {
			m.From = string(s)
		}
		if s, ok := a[1].(cgpl.String); ok {
			m.Subject = string(s)
		}
		if a[2] != nil {
			m.To = addrList(a[2])
		}
		return sendResult(t, svc, m), nil
	}})
	reg.Register(cgpl.Func{Name: "SubmitEMail", MinArgs: 2, MaxArgs: 2, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		hdrs, ok := a[0].(*cgpl.Dict)
		if !ok {
			return cgpl.String("the headers must be a dictionary"), nil
		}
		m, err := messageOf(hdrs, a[1])
		if err != nil {
			return cgpl.String(err.Error()), nil
		}
		return sendResult(t, svc, m), nil
	}})
	reg.Register(cgpl.Func{Name: "HTTPCall", MinArgs: 2, MaxArgs: 2, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		return httpCall(t, svc, a[0], a[1]), nil
	}})
}

func sendResult(t *cgpl.Task, svc Services, m mail.Message) cgpl.Value {
	if m.From == "" {
		m.From = t.Email()
	}
	if svc.Mail == nil {
		return cgpl.String("no mail relay is configured")
	}
	err := svc.Mail.Send(t.Context(), m)
	if tk := taskOf(t); tk != nil {
		tk.trace(TraceEvent{Kind: "mail", Detail: "to " + strings.Join(m.To, ", ") + " subject " + strconv.Quote(m.Subject), Err: errString(err)})
	}
	if err != nil {
		return cgpl.String(err.Error())
	}
	return nil
}

func str(v cgpl.Value) string {
	switch x := v.(type) {
	case cgpl.String:
		return string(x)
	case cgpl.Data:
		return string(x)
	case nil:
		return ""
	}
	return cgpl.ObjectToString(v)
}

// addrList reads a string or an array of strings.
func addrList(v cgpl.Value) []string {
	switch x := v.(type) {
	case cgpl.String:
		var out []string
		for _, a := range strings.Split(string(x), ",") {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, a)
			}
		}
		return out
	case *cgpl.Array:
		var out []string
		for _, e := range x.Elems {
			out = append(out, addrList(e)...)
		}
		return out
	}
	return nil
}

// messageOf builds a message from CG/PL headers and content: a string, a
// datablock, a dictionary {body, Content-Type, Content-Subtype, filename},
// or an array whose first element is the body and the rest attachments.
func messageOf(h *cgpl.Dict, content cgpl.Value) (mail.Message, error) {
	var m mail.Message
	if h != nil {
		for _, k := range h.Keys() {
			v := h.Get(k)
			switch strings.ToLower(k) {
			case "from":
				m.From = str(v)
			case "to":
				m.To = addrList(v)
			case "cc":
				m.Cc = addrList(v)
			case "bcc":
				m.Bcc = addrList(v)
			case "subject":
				m.Subject = str(v)
			default:
				if m.Headers == nil {
					m.Headers = map[string]string{}
				}
				m.Headers[k] = str(v)
			}
		}
	}
	parts := []cgpl.Value{content}
	if arr, ok := content.(*cgpl.Array); ok && len(arr.Elems) > 0 {
		parts = arr.Elems
	}
	for i, p := range parts {
		body, ctype, filename := partOf(p)
		if i == 0 {
			m.Body, m.ContentType = body, ctype
			continue
		}
		if filename == "" {
			filename = fmt.Sprintf("part%d", i)
		}
		m.Attachments = append(m.Attachments, mail.Attachment{Filename: filename, ContentType: ctype, Data: body})
	}
	return m, nil
}

func partOf(v cgpl.Value) (body []byte, ctype, filename string) {
	switch x := v.(type) {
	case cgpl.String:
		return []byte(x), "", ""
	case cgpl.Data:
		return []byte(x), "application/octet-stream", ""
	case *cgpl.Dict:
		body, ctype, _ = partOf(x.Get("body"))
		if t := str(x.Get("Content-Type")); t != "" {
			ctype = t
			if sub := str(x.Get("Content-Subtype")); sub != "" && !strings.Contains(t, "/") {
				ctype = t + "/" + sub
			}
		}
		return body, ctype, str(x.Get("filename"))
	}
	return []byte(str(v)), "", ""
}

// httpCall performs HTTPCall(url, params): params may hold method, body (a
// string, datablock, or dictionary sent as a form), headers (a dictionary)
// and timeout (seconds). The result is a dictionary {responseCode, body,
// Content-Type, headers} or an error string.
func httpCall(t *cgpl.Task, svc Services, urlV, paramsV cgpl.Value) cgpl.Value {
	if svc.HTTP == nil {
		return cgpl.String("HTTP is not available")
	}
	u, ok := urlV.(cgpl.String)
	if !ok {
		return cgpl.String("the URL must be a string")
	}
	pu, err := url.Parse(string(u))
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
		return cgpl.String("not an http(s) URL: " + string(u))
	}
	params, _ := paramsV.(*cgpl.Dict)
	method, timeout := "GET", 30*time.Second
	var body io.Reader
	ctype := ""
	hdrs := http.Header{}
	if params != nil {
		if m := str(params.Get("method")); m != "" {
			method = strings.ToUpper(m)
		}
		if n, ok := params.Get("timeout").(cgpl.Number); ok && n > 0 && n < 300 {
			timeout = time.Duration(n) * time.Second
		}
		switch b := params.Get("body").(type) {
		case cgpl.String:
			body, ctype = strings.NewReader(string(b)), "text/plain; charset=utf-8"
		case cgpl.Data:
			body, ctype = bytes.NewReader(b), "application/octet-stream"
		case *cgpl.Dict:
			form := url.Values{}
			for _, k := range b.Keys() {
				form.Set(k, str(b.Get(k)))
			}
			body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
		}
		if body != nil && params.Get("method") == nil {
			method = "POST"
		}
		if h, ok := params.Get("headers").(*cgpl.Dict); ok {
			for _, k := range h.Keys() {
				hdrs.Set(k, str(h.Get(k)))
			}
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, pu.String(), body)
	if err != nil {
		return cgpl.String(err.Error())
	}
	req.Header = hdrs
	if ctype != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := svc.HTTP.Do(req)
	if err != nil {
		return cgpl.String(err.Error())
	}
	defer res.Body.Close()
	limit := svc.MaxHTTPBody
	if limit <= 0 {
		limit = 4 << 20
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return cgpl.String(err.Error())
	}
	if int64(len(data)) > limit {
		return cgpl.String(fmt.Sprintf("response body larger than %d bytes", limit))
	}
	out := cgpl.NewDict()
	out.Set("responseCode", cgpl.Number(res.StatusCode))
	rct := res.Header.Get("Content-Type")
	if rct != "" {
		out.Set("Content-Type", cgpl.String(rct))
	}
	if isText(rct) {
		out.Set("body", cgpl.String(data))
	} else if len(data) > 0 {
		out.Set("body", cgpl.Data(data))
	}
	rh := cgpl.NewDict()
	for k, vs := range res.Header {
		rh.Set(k, cgpl.String(strings.Join(vs, ", ")))
	}
	out.Set("headers", rh)
	return out
}

func isText(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.Contains(ct, "x-www-form-urlencoded")
}

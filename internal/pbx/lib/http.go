package lib

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringo-pbx/ringo/cgpl"
)

// Defaults of HTTPConfig.
const (
	// DefaultHTTPTimeout is CommuniGate's limit on one HTTPCall.
	DefaultHTTPTimeout = 30 * time.Second
	// DefaultMaxHTTPTimeout bounds what a program may ask for.
	DefaultMaxHTTPTimeout = 5 * time.Minute
	// DefaultMaxHTTPBody bounds a response body read into a program.
	DefaultMaxHTTPBody = 4 << 20
)

// HTTPConfig is how HTTPCall reaches web services. Private and loopback
// addresses are allowed: integrators call the CRM on their own network.
type HTTPConfig struct {
	// Client makes the requests; nil makes HTTPCall return "HTTP is not
	// available".
	Client *http.Client
	// Timeout is a call's limit when the program sets none
	// (DefaultHTTPTimeout when 0).
	Timeout time.Duration
	// MaxTimeout caps the limit a program sets (DefaultMaxHTTPTimeout when 0).
	MaxTimeout time.Duration
	// MaxBody bounds the response body (DefaultMaxHTTPBody when 0); a
	// larger one is an error.
	MaxBody int64
}

// HTTPFuncs returns HTTPCall over client, with the default limits.
func HTTPFuncs(client *http.Client) []cgpl.Func { return HTTPConfig{Client: client}.Funcs() }

// Funcs returns HTTPCall.
func (c HTTPConfig) Funcs() []cgpl.Func {
	if c.Timeout <= 0 {
		c.Timeout = DefaultHTTPTimeout
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = DefaultMaxHTTPTimeout
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxHTTPBody
	}
	return []cgpl.Func{
		// HTTPCall(url, params): a result dictionary or an error string.
		{Name: "HTTPCall", MinArgs: 2, MaxArgs: 2, Fn: func(t *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
			res, err := c.call(t.Context(), a[0], a[1])
			if err != nil {
				return cgpl.String(err.Error()), nil
			}
			return res, nil
		}},
	}
}

// call performs HTTPCall(url, params). params may hold method, urlParameters
// (a dictionary added to the query), body (a string, a datablock, or a
// dictionary sent as a form), Content-Type and Content-Subtype of the body,
// headers (a dictionary), authName and authPassword (HTTP Basic), and
// timeout (seconds; timeLimit is taken too).
func (c HTTPConfig) call(ctx context.Context, urlV, paramsV cgpl.Value) (cgpl.Value, error) {
	if c.Client == nil {
		return nil, errors.New("HTTP is not available")
	}
	us, ok := urlV.(cgpl.String)
	if !ok {
		return nil, errors.New("HTTPCall: the URL must be a string")
	}
	u, err := url.Parse(string(us))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("HTTPCall: not an http or https URL: %q", string(us))
	}
	params, ok := paramsV.(*cgpl.Dict)
	if !ok && paramsV != nil {
		return nil, errors.New("HTTPCall: the parameters must be a dictionary or null")
	}
	if params == nil {
		params = cgpl.NewDict()
	}

	if q, ok := params.Get("urlParameters").(*cgpl.Dict); ok {
		query := u.Query()
		for _, k := range q.Keys() {
			query.Set(k, text(q.Get(k)))
		}
		u.RawQuery = query.Encode()
	}
	var body io.Reader
	ctype := ""
	switch b := params.Get("body").(type) {
	case nil:
	case cgpl.String:
		body, ctype = strings.NewReader(string(b)), "text/plain; charset=utf-8"
	case cgpl.Data:
		body, ctype = bytes.NewReader(b), "application/octet-stream"
	case *cgpl.Dict:
		form := url.Values{}
		for _, k := range b.Keys() {
			form.Set(k, text(b.Get(k)))
		}
		body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	default:
		return nil, errors.New("HTTPCall: the body must be a string, a datablock or a dictionary")
	}
	if t := strings.TrimSpace(text(params.Get("Content-Type"))); t != "" {
		ctype = t
		if sub := strings.TrimSpace(text(params.Get("Content-Subtype"))); sub != "" && !strings.Contains(t, "/") {
			ctype = t + "/" + sub
		}
	}
	method := "GET"
	if body != nil {
		method = "POST"
	}
	if m := strings.TrimSpace(text(params.Get("method"))); m != "" {
		method = strings.ToUpper(m)
	}
	timeout := c.Timeout
	for _, k := range []string{"timeout", "timeLimit"} {
		if n, ok := params.Get(k).(cgpl.Number); ok && n > 0 {
			timeout = min(time.Duration(n)*time.Second, c.MaxTimeout)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("HTTPCall: %w", err)
	}
	if h, ok := params.Get("headers").(*cgpl.Dict); ok {
		for _, k := range h.Keys() {
			if arr, ok := h.Get(k).(*cgpl.Array); ok {
				for _, e := range arr.Elems {
					req.Header.Add(k, text(e))
				}
				continue
			}
			req.Header.Set(k, text(h.Get(k)))
		}
	}
	if ctype != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", ctype)
	}
	if name := text(params.Get("authName")); name != "" {
		req.SetBasicAuth(name, text(params.Get("authPassword")))
	}

	res, err := c.Client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("HTTPCall %s %s: no answer within %v", method, u.Redacted(), timeout)
		}
		return nil, fmt.Errorf("HTTPCall: %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, c.MaxBody+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("HTTPCall %s %s: the response did not end within %v", method, u.Redacted(), timeout)
		}
		return nil, fmt.Errorf("HTTPCall %s %s: reading the response: %w", method, u.Redacted(), err)
	}
	if int64(len(data)) > c.MaxBody {
		return nil, fmt.Errorf("HTTPCall %s %s: the response body is over the limit of %d bytes", method, u.Redacted(), c.MaxBody)
	}

	out := cgpl.NewDict()
	out.Set("responseCode", cgpl.Number(res.StatusCode))
	out.Set("responseText", cgpl.String(strings.TrimSpace(strings.TrimPrefix(res.Status, fmt.Sprint(res.StatusCode)))))
	rct := res.Header.Get("Content-Type")
	if rct != "" {
		out.Set("Content-Type", cgpl.String(rct))
	}
	if len(data) > 0 {
		if textual(rct) && utf8.Valid(data) {
			out.Set("body", cgpl.String(data))
		} else {
			out.Set("body", cgpl.Data(data))
		}
	}
	rh := cgpl.NewDict()
	for k, vs := range res.Header {
		rh.Set(k, cgpl.String(strings.Join(vs, ", ")))
	}
	out.Set("headers", rh)
	return out, nil
}

// textual reports whether a response of this type is text for a program
// (a string) rather than data (a datablock); no type counts as text.
func textual(ctype string) bool {
	if ctype == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/javascript"
}

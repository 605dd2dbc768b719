package sip

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/store"
)

func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues("REGISTER").Inc()
	to := req.To()
	if to == nil {
		s.respond(tx, req, 400, "Bad Request: no To", nil)
		return
	}
	domainName, ok := s.domainOf(to.Address.Host)
	if !ok {
		s.respond(tx, req, 404, "Not Found: domain not served here", nil)
		return
	}
	acc, ok := s.authenticate(req, tx, domainName, false)
	if !ok {
		return
	}
	// The AOR may name the account or one of its aliases; it must be the
	// account that authenticated.
	tgt, err := s.dir.Resolve(to.Address.User, domainName)
	if err != nil || tgt.Account == nil || tgt.Account.Name != acc.Name {
		s.respond(tx, req, 403, "Forbidden: credentials do not match the address of record", nil)
		return
	}
	aor := acc.Name + "@" + acc.Domain
	changes, err := s.parseContacts(req, aor)
	if err != nil {
		var tb errTooBrief
		if errors.As(err, &tb) {
			s.respond(tx, req, 423, "Interval Too Brief", nil, sip.NewHeader("Min-Expires", strconv.Itoa(s.cfg.Registrar.MinExpires)))
			return
		}
		s.respond(tx, req, 400, "Bad Request: "+err.Error(), nil)
		return
	}
	var live []store.Binding
	if changes.fetch {
		live = s.loc.Lookup(aor)
	} else {
		live = s.loc.Update(aor, changes.put, changes.remove, changes.all, s.cfg.Registrar.MaxContacts)
		s.log.Debug("registered", "aor", aor, "contacts", len(live), "source", req.Source())
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	gruu := supports(req, "gruu")
	now := time.Now()
	for _, b := range live {
		v := "<" + b.Contact + ">;expires=" + strconv.Itoa(max(0, int(b.Expires.Sub(now).Round(time.Second).Seconds())))
		if b.Instance != "" {
			v += `;+sip.instance="` + b.Instance + `"`
			if gruu {
				v += `;pub-gruu="sip:` + aor + ";gr=" + strings.Trim(b.Instance, "<>") + `"`
			}
		}
		if b.RegID != "" {
			v += ";reg-id=" + b.RegID
		}
		res.AppendHeader(sip.NewHeader("Contact", v))
	}
	if supports(req, "path") {
		for _, p := range req.GetHeaders("Path") {
			res.AppendHeader(sip.NewHeader("Path", p.Value()))
		}
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	s.send(tx, res)
}

type errTooBrief struct{}

func (errTooBrief) Error() string { return "interval too brief" }

type contactChanges struct {
	put    []store.Binding
	remove []string
	all    bool
	fetch  bool
}

// parseContacts turns a REGISTER's Contact and Expires headers into changes.
func (s *Server) parseContacts(req *sip.Request, aor string) (contactChanges, error) {
	var ch contactChanges
	hdrs := req.GetHeaders("Contact")
	if len(hdrs) == 0 {
		ch.fetch = true
		return ch, nil
	}
	defExp := s.cfg.Registrar.DefaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || v < 0 {
			return ch, errors.New("Expires is not a number of seconds")
		}
		defExp = v
	}
	cid := ""
	if c := req.CallID(); c != nil {
		cid = c.Value()
	}
	var cseq uint32
	if c := req.CSeq(); c != nil {
		cseq = c.SeqNo
	}
	var path []string
	for _, p := range req.GetHeaders("Path") {
		path = append(path, p.Value())
	}
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	now := time.Now()
	for _, h := range hdrs {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return ch, errors.New("unreadable Contact")
		}
		exp := defExp
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return ch, errors.New("contact expires is not a number of seconds")
			}
			exp = n
		}
		if c.Address.Wildcard {
			if len(hdrs) != 1 || exp != 0 {
				return ch, errors.New("Contact: * needs Expires: 0 and no other contact")
			}
			ch.all = true
			return ch, nil
		}
		if c.Address.Scheme != "sip" && c.Address.Scheme != "sips" {
			return ch, errors.New("contact must be a sip or sips URI")
		}
		uri := c.Address.String()
		if exp == 0 {
			ch.remove = append(ch.remove, uri)
			continue
		}
		if exp < s.cfg.Registrar.MinExpires {
			return ch, errTooBrief{}
		}
		exp = min(exp, s.cfg.Registrar.MaxExpires)
		b := store.Binding{
			AOR: aor, Contact: uri, Expires: now.Add(time.Duration(exp) * time.Second),
			Source: req.Source(), Transport: strings.ToUpper(req.Transport()), Path: path,
			CallID: cid, CSeq: cseq, UserAgent: ua,
		}
		if v, ok := c.Params.Get("+sip.instance"); ok {
			b.Instance = strings.Trim(v, `"`)
		}
		if v, ok := c.Params.Get("reg-id"); ok {
			b.RegID = v
		}
		if v, ok := c.Params.Get("q"); ok {
			if q, err := strconv.ParseFloat(v, 64); err == nil && q >= 0 && q <= 1 {
				b.Q = q
			}
		}
		ch.put = append(ch.put, b)
	}
	return ch, nil
}

// supports reports whether the request lists opt in Supported or Require.
func supports(req *sip.Request, opt string) bool {
	for _, name := range []string{"Supported", "Require", "k"} {
		for _, h := range req.GetHeaders(name) {
			for _, v := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(v), opt) {
					return true
				}
			}
		}
	}
	return false
}

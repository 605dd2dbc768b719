package cgpl

import (
	"errors"
	"io/fs"
	"strings"
)

// Host is what a server lends programs for the functions that need it: the
// account directory, the router, the server's own counters (spec §4.9).
// TaskOptions.Host sets it; each field is optional. A function whose field
// is nil (or a task with no Host) behaves as without a server: the
// functions that report errors as strings return NotAvailable, those that
// look something up return null, and the procedures do nothing.
//
// The runtime checks the argument types before it calls a field (a wrong
// type raises a program exception, as the vendor documents "should be a
// string"); the field gets Go strings and returns the function's CG/PL
// result: a value, null, or an error string. A Go error it returns ends the
// task with a program exception (or, for the task's context error, as a
// cancelled task). Fields run on the task's goroutine and should return
// when its context is done.
type Host struct {
	// GetAccountPreferences(key): one preference of the current account,
	// or (key "") a dictionary of all its effective preferences; a key
	// "~user/name" reads another account's.
	GetAccountPreferences func(t *Task, key string) (Value, error)
	// SetAccountPreferences(value, key): null or an error string. key is
	// "" when the program passed something that is not a string; value is
	// a dictionary when key is "" or "~user/" (the runtime checks).
	SetAccountPreferences func(t *Task, value Value, key string) (Value, error)
	// Impersonate(address): routes address and makes the account it routes
	// to the task's owner (see Task.SetOwner); null or an error string.
	Impersonate func(t *Task, address string) (Value, error)
	// ReadGroupMembers(group): an array of member addresses, or null when
	// there is no such group.
	ReadGroupMembers func(t *Task, group string) (Value, error)
	// ReadTelnums([account]): an array of the account's phone numbers (the
	// current account's for ""), or null when there is no such account.
	ReadTelnums func(t *Task, account string) (Value, error)
	// RouteAddress(address, kind): a dictionary {module, host, object,
	// canRelay} or an error string; kind is "mail", "signal" or "access".
	RouteAddress func(t *Task, address, kind string) (Value, error)
	// RouteENUM(service, phone, domain): an array whose first element is
	// the URL, or an error string.
	RouteENUM func(t *Task, service, phone, domain string) (Value, error)
	// SystemInfo(what): serverVersion, serverOS, mainDomainName,
	// startTime… (what as the program wrote it); null when unknown.
	SystemInfo func(t *Task, what string) (Value, error)
	// StoreCDR(record): hands an application record to the CDR processor.
	StoreCDR func(t *Task, record string) error
	// ExecuteCLI(command): result is null or an error string; output (null
	// for none) becomes Vars().executeCLIResult.
	ExecuteCLI func(t *Task, command string) (output, result Value, err error)
	// Statistics(element, op, value): the element's value (a number) or an
	// error string; op is "", "inc" or "set".
	Statistics func(t *Task, element, op string, value Value) (Value, error)
	// DoBalance(params, account): a result dictionary or an error string;
	// account is "" for the current account.
	DoBalance func(t *Task, params *Dict, account string) (Value, error)
	// BannerRead(kind, params): the banner object, or null.
	BannerRead func(t *Task, kind string, params Value) (Value, error)
	// SendInstantMessage(from, to, content): null or an error string; from
	// is "" for the current account, content a copy of the program's value.
	SendInstantMessage func(t *Task, from, to string, content Value) (Value, error)
	// SendXMPPIQ(from, to, request): null or an error string.
	SendXMPPIQ func(t *Task, from, to string, request *Dict) (Value, error)
	// RADIUSCall(address, params): a result dictionary or an error string.
	RADIUSCall func(t *Task, address string, params *Dict) (Value, error)
}

// NotAvailable is the error string the functions that need a server return
// when the host provides none.
const NotAvailable = String("not available")

// SetOwner changes the identity the task runs as (MyEmail, MyDomain, the
// owner of its queues and meetings), for a Host's Impersonate. The task
// leaves the queues and meetings it is in as the old owner.
func (t *Task) SetOwner(email, domain string) {
	t.leaveHub()
	t.opts.Email, t.opts.Domain = email, domain
}

// ApplicationStatus is the last value the program gave SetApplicationStatus
// (a copy), or null. It may be read from any goroutine.
func (t *Task) ApplicationStatus() Value {
	if p := t.appStatus.Load(); p != nil {
		return CopyValue(*p)
	}
	return nil
}

// hostArgString checks a string argument of a host function; null is "" when
// nullOK.
func hostArgString(fn, what string, v Value, nullOK bool) (string, error) {
	switch x := v.(type) {
	case String:
		return string(x), nil
	case nil:
		if nullOK {
			return "", nil
		}
	}
	if nullOK {
		return "", Throw("%s: the %s must be a string or null, not %s", fn, what, TypeName(v))
	}
	return "", Throw("%s: the %s must be a string, not %s", fn, what, TypeName(v))
}

// hostFuncs are the built-ins that go to the Host, with their behaviour
// without one, and those of §4.9 the runtime does itself (ReadEnvirFile,
// SetApplicationStatus, SysProfile, PhoneNumberToSIPURI).
func hostFuncs() []Func {
	host := func(t *Task) *Host {
		if t.opts.Host == nil {
			return &Host{}
		}
		return t.opts.Host
	}
	return []Func{
		{Name: "GetAccountPreferences", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			key, err := hostArgString("GetAccountPreferences", "key", a[0], true)
			if err != nil {
				return nil, err
			}
			if f := host(t).GetAccountPreferences; f != nil {
				return f(t, key)
			}
			return nil, nil
		}},
		{Name: "SetAccountPreferences", MinArgs: 2, MaxArgs: 2, Fn: func(t *Task, a []Value) (Value, error) {
			key, _ := a[1].(String)
			whole := key == "" || strings.HasPrefix(string(key), "~") && strings.HasSuffix(string(key), "/")
			if _, isDict := a[0].(*Dict); whole && !isDict {
				return nil, Throw("SetAccountPreferences: to set all preferences the value must be a dictionary, not %s", TypeName(a[0]))
			}
			if f := host(t).SetAccountPreferences; f != nil {
				return f(t, CopyValue(a[0]), string(key))
			}
			return NotAvailable, nil
		}},
		{Name: "Impersonate", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			addr, err := hostArgString("Impersonate", "address", a[0], false)
			if err != nil {
				return nil, err
			}
			if f := host(t).Impersonate; f != nil {
				return f(t, addr)
			}
			return NotAvailable, nil
		}},
		{Name: "ReadGroupMembers", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			group, err := hostArgString("ReadGroupMembers", "group name", a[0], false)
			if err != nil {
				return nil, err
			}
			if f := host(t).ReadGroupMembers; f != nil {
				return f(t, group)
			}
			return nil, nil
		}},
		{Name: "ReadTelnums", MinArgs: 0, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			var acct string
			if len(a) > 0 {
				var err error
				if acct, err = hostArgString("ReadTelnums", "account name", a[0], true); err != nil {
					return nil, err
				}
			}
			if f := host(t).ReadTelnums; f != nil {
				return f(t, acct)
			}
			return nil, nil
		}},
		{Name: "RouteAddress", MinArgs: 2, MaxArgs: 2, Fn: func(t *Task, a []Value) (Value, error) {
			addr, err := hostArgString("RouteAddress", "address", a[0], false)
			if err != nil {
				return nil, err
			}
			kind, err := hostArgString("RouteAddress", "address type", a[1], false)
			if err != nil {
				return nil, err
			}
			switch kind = strings.ToLower(kind); kind {
			case "mail", "signal", "access":
			default:
				return nil, Throw("RouteAddress: the address type is mail, signal or access, not %q", kind)
			}
			if f := host(t).RouteAddress; f != nil {
				return f(t, addr, kind)
			}
			return NotAvailable, nil
		}},
		{Name: "RouteENUM", MinArgs: 3, MaxArgs: 3, Fn: func(t *Task, a []Value) (Value, error) {
			var s [3]string
			for i, what := range []string{"service", "phone number", "ENUM domain"} {
				var err error
				if s[i], err = hostArgString("RouteENUM", what, a[i], false); err != nil {
					return nil, err
				}
			}
			if f := host(t).RouteENUM; f != nil {
				return f(t, s[0], s[1], s[2])
			}
			return NotAvailable, nil
		}},
		{Name: "SystemInfo", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			what, err := hostArgString("SystemInfo", "argument", a[0], false)
			if err != nil {
				return nil, err
			}
			if f := host(t).SystemInfo; f != nil {
				return f(t, what)
			}
			return nil, nil
		}},
		{Name: "StoreCDR", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(t *Task, a []Value) (Value, error) {
			rec, err := hostArgString("StoreCDR", "record", a[0], false)
			if err != nil {
				return nil, err
			}
			if f := host(t).StoreCDR; f != nil {
				return nil, f(t, rec)
			}
			return nil, nil
		}},
		{Name: "ExecuteCLI", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			cmd, err := hostArgString("ExecuteCLI", "command", a[0], false)
			if err != nil {
				return nil, err
			}
			output, result := Value(nil), Value(NotAvailable)
			if f := host(t).ExecuteCLI; f != nil {
				if output, result, err = f(t, cmd); err != nil {
					return nil, err
				}
			}
			t.varsDict().Set("executeCLIResult", output)
			return result, nil
		}},
		{Name: "Statistics", MinArgs: 3, MaxArgs: 3, Fn: func(t *Task, a []Value) (Value, error) {
			elem, err := hostArgString("Statistics", "element name", a[0], false)
			if err != nil {
				return nil, err
			}
			op, err := hostArgString("Statistics", "operation", a[1], true)
			if err != nil {
				return nil, err
			}
			if op = strings.ToLower(op); op != "" && op != "inc" && op != "set" {
				return nil, Throw("Statistics: the operation is inc, set or null, not %q", op)
			}
			if f := host(t).Statistics; f != nil {
				return f(t, elem, op, a[2])
			}
			return NotAvailable, nil
		}},
		{Name: "DoBalance", MinArgs: 2, MaxArgs: 2, Fn: func(t *Task, a []Value) (Value, error) {
			params, ok := a[0].(*Dict)
			if !ok {
				return nil, Throw("DoBalance: the parameters must be a dictionary, not %s", TypeName(a[0]))
			}
			acct, err := hostArgString("DoBalance", "account name", a[1], true)
			if err != nil {
				return nil, err
			}
			if f := host(t).DoBalance; f != nil {
				return f(t, CopyValue(params).(*Dict), acct)
			}
			return NotAvailable, nil
		}},
		{Name: "BannerRead", MinArgs: 2, MaxArgs: 2, Fn: func(t *Task, a []Value) (Value, error) {
			kind, err := hostArgString("BannerRead", "banner type", a[0], false)
			if err != nil {
				return nil, err
			}
			if f := host(t).BannerRead; f != nil {
				return f(t, kind, CopyValue(a[1]))
			}
			return nil, nil
		}},
		// Communication (§4.10) beyond e-mail and HTTP, which have their own
		// services: instant messages, XMPP and RADIUS go to the host.
		{Name: "SendInstantMessage", MinArgs: 3, MaxArgs: 3, Fn: func(t *Task, a []Value) (Value, error) {
			from, err := hostArgString("SendInstantMessage", "sender", a[0], true)
			if err != nil {
				return nil, err
			}
			to, err := hostArgString("SendInstantMessage", "recipient", a[1], false)
			if err != nil {
				return nil, err
			}
			if f := host(t).SendInstantMessage; f != nil {
				return f(t, from, to, CopyValue(a[2]))
			}
			return NotAvailable, nil
		}},
		{Name: "SendXMPPIQ", MinArgs: 3, MaxArgs: 3, Fn: func(t *Task, a []Value) (Value, error) {
			from, err := hostArgString("SendXMPPIQ", "sender", a[0], true)
			if err != nil {
				return nil, err
			}
			to, err := hostArgString("SendXMPPIQ", "recipient", a[1], false)
			if err != nil {
				return nil, err
			}
			req, ok := a[2].(*Dict)
			if !ok {
				return nil, Throw("SendXMPPIQ: the request must be a dictionary, not %s", TypeName(a[2]))
			}
			if f := host(t).SendXMPPIQ; f != nil {
				return f(t, from, to, CopyValue(req).(*Dict))
			}
			return NotAvailable, nil
		}},
		{Name: "RADIUSCall", MinArgs: 2, MaxArgs: 2, Fn: func(t *Task, a []Value) (Value, error) {
			addr, err := hostArgString("RADIUSCall", "address", a[0], false)
			if err != nil {
				return nil, err
			}
			params, ok := a[1].(*Dict)
			if !ok {
				return nil, Throw("RADIUSCall: the parameters must be a dictionary, not %s", TypeName(a[1]))
			}
			if f := host(t).RADIUSCall; f != nil {
				return f(t, addr, CopyValue(params).(*Dict))
			}
			return NotAvailable, nil
		}},
		{Name: "ReadEnvirFile", MinArgs: 1, MaxArgs: 1, Fn: readEnvirFile},
		{Name: "SetApplicationStatus", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(t *Task, a []Value) (Value, error) {
			v := CopyValue(a[0])
			t.appStatus.Store(&v)
			return nil, nil
		}},
		// Profiling records are not written; the procedure is accepted so
		// that programs using it run.
		{Name: "SysProfile", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(*Task, []Value) (Value, error) { return nil, nil }},
		{Name: "PhoneNumberToSIPURI", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			return PhoneNumberToSIPURI(a[0], t.opts.Domain), nil
		}},
	}
}

// readEnvirFile is ReadEnvirFile(name): the file of the task's environment
// (the one its program was loaded from), in the task's language folder if
// it is there, as a datablock; null when there is no such file or no
// environment.
func readEnvirFile(t *Task, a []Value) (Value, error) {
	name, err := hostArgString("ReadEnvirFile", "file name", a[0], false)
	if err != nil {
		return nil, err
	}
	names, err := envirFileNames(name, t.opts.Language)
	if err != nil {
		return nil, Throw("ReadEnvirFile: %v", err)
	}
	ls := t.opts.links
	if ls == nil {
		return nil, nil
	}
	for _, n := range names {
		src, _, err := ls.env.loader.Load(t.ctx, n)
		switch {
		case err == nil:
			if err := t.reserve(24 + len(src)); err != nil {
				return nil, err
			}
			return Data(src), nil
		case errors.Is(err, fs.ErrNotExist):
			continue
		case t.ctx.Err() != nil:
			return nil, t.ctx.Err()
		default:
			return nil, Throw("ReadEnvirFile: %v", err)
		}
	}
	return nil, nil
}

// reserve charges n bytes to the task's memory limit, for a built-in: the
// error raises at the call.
func (t *Task) reserve(n int) error {
	t.mem += int64(n)
	if max := t.opts.Limits.MaxMemory; max > 0 && t.mem > max {
		return Throw("memory limit of %d bytes exceeded", max)
	}
	return nil
}

// budget is the memory left to the task (nil: no limit).
func (t *Task) budget() *int64 {
	max := t.opts.Limits.MaxMemory
	if max <= 0 {
		return nil
	}
	left := max - t.mem
	return &left
}

// convertFuncs are the conversions that build values as large as their
// input, charged to the task's memory: ToObject (text and XML) and
// ObjectToXML.
func convertFuncs() []Func {
	toObject := func(name string) Func {
		return Func{Name: name, MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			b := t.budget()
			v, err := toObjectFn(name, a[0], b)
			if errors.Is(err, errXMLMemory) {
				return nil, Throw("memory limit of %d bytes exceeded", t.opts.Limits.MaxMemory)
			}
			if err != nil {
				return nil, err
			}
			if b != nil {
				t.mem = t.opts.Limits.MaxMemory - *b
			}
			if _, isXML := a[0].(*XML); isXML && v != nil {
				if err := t.reserve(valueSize(v, int(min(t.opts.Limits.MaxMemory, MaxTextSize)))); err != nil {
					return nil, err
				}
			}
			return v, nil
		}}
	}
	return []Func{
		toObject("ToObject"),
		toObject("TextToObject"),
		{Name: "ObjectToXML", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			x, err := ObjectToXML(a[0])
			if err != nil {
				return nil, Throw("ObjectToXML: %v", err)
			}
			if err := t.reserve(x.size(MaxTextSize)); err != nil {
				return nil, err
			}
			return x, nil
		}},
	}
}

package cgpl

import (
	"strings"
	"time"
)

// timeFuncs are the timestamp functions that read the clock or the task's
// time zone, and SetTimeZone, which changes the zone for the task.
func timeFuncs() []Func {
	clock := func(t *Task) time.Time {
		if t.opts.Now != nil {
			return t.opts.Now()
		}
		return time.Now()
	}
	var out []Func
	for i, p := range TimeFuncs(time.Now, func() *time.Location { return nil }) {
		name, min, max := p.Name, p.MinArgs, p.MaxArgs
		out = append(out, Func{Name: name, MinArgs: min, MaxArgs: max, Fn: func(t *Task, a []Value) (Value, error) {
			// Bound to this task's clock and zone at each call.
			fns := TimeFuncs(func() time.Time { return clock(t) }, func() *time.Location { return t.opts.Zone })
			return fns[i].Fn(a)
		}})
	}
	out = append(out, Func{Name: "SetTimeZone", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(t *Task, a []Value) (Value, error) {
		if a[0] == nil {
			t.opts.Zone = nil
			return nil, nil
		}
		name, ok := a[0].(String)
		if !ok {
			return nil, Throw("SetTimeZone: the zone must be a string, not %s", TypeName(a[0]))
		}
		loc, err := LoadTimeZone(strings.TrimSpace(string(name)))
		if err != nil {
			return nil, err
		}
		t.opts.Zone = loc
		return nil, nil
	}})
	return out
}

// languageFuncs select the language of the task's prompts.
func languageFuncs() []Func {
	return []Func{
		{Name: "GetLanguage", MinArgs: 0, MaxArgs: 0, Fn: func(t *Task, _ []Value) (Value, error) {
			if t.opts.Language == "" {
				return nil, nil
			}
			return String(t.opts.Language), nil
		}},
		{Name: "SetLanguage", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(t *Task, a []Value) (Value, error) {
			switch v := a[0].(type) {
			case nil:
				t.opts.Language = ""
			case String:
				if strings.ContainsAny(string(v), "/\\.") {
					return nil, Throw("SetLanguage: %q is not a language name", string(v))
				}
				t.opts.Language = strings.ToLower(string(v))
			default:
				return nil, Throw("SetLanguage: the language must be a string, not %s", TypeName(v))
			}
			return nil, nil
		}},
	}
}

package pbx

import (
	"encoding/json"
	"math"
	"sort"
	"strings"

	"github.com/ringo-pbx/ringo/cgpl"
	"github.com/ringo-pbx/ringo/internal/store"
)

// host is what tasks ask of the server through the language's host hooks.
func (m *Manager) host() *cgpl.Host {
	return &cgpl.Host{
		GetAccountPreferences: func(t *cgpl.Task, key string) (cgpl.Value, error) {
			tk := taskOf(t)
			if tk == nil {
				return nil, nil
			}
			prefs := prefsDict(tk.owner)
			if key == "" {
				return prefs, nil
			}
			return prefs.Get(key), nil
		},
		RouteAddress: func(t *cgpl.Task, address, kind string) (cgpl.Value, error) {
			tk := taskOf(t)
			if tk == nil || m.cfg.Directory == nil {
				return cgpl.String("unknown address"), nil
			}
			acc, ok := m.cfg.Directory.RouteLocal(address, tk.owner.Domain)
			if !ok {
				return cgpl.String("unknown address"), nil
			}
			d := cgpl.NewDict()
			d.Set("module", cgpl.String("LOCAL"))
			name, host, _ := strings.Cut(acc, "@")
			d.Set("host", cgpl.String(host))
			d.Set("object", cgpl.String(name))
			return d, nil
		},
	}
}

// prefsDict is an account's preferences as CG/PL sees them.
func prefsDict(a *store.Account) *cgpl.Dict {
	d := cgpl.NewDict()
	p := a.Prefs
	if p.Language != "" {
		d.Set("language", cgpl.String(p.Language))
	}
	if p.Timezone != "" {
		d.Set("timezone", cgpl.String(p.Timezone))
	}
	if len(p.WorkingHours) > 0 {
		wh := cgpl.NewDict()
		for k, v := range p.WorkingHours {
			wh.Set(k, cgpl.String(v))
		}
		d.Set("workingHours", wh)
	}
	if a.RealName != "" {
		d.Set("RealName", cgpl.String(a.RealName))
	}
	if len(p.Settings) > 0 {
		d.Set("settings", toValue(p.Settings))
	}
	return d
}

// toValue converts decoded JSON or YAML data to a CG/PL value: numbers
// become numbers when whole, booleans YES or null.
func toValue(v any) cgpl.Value {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return cgpl.String(x)
	case bool:
		if x {
			return cgpl.Yes
		}
		return nil
	case int:
		return cgpl.Number(x)
	case int64:
		return cgpl.Number(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return cgpl.Number(int64(x))
		}
		return cgpl.String(jsonNumber(x))
	case []any:
		arr := cgpl.NewArray()
		for _, e := range x {
			arr.Elems = append(arr.Elems, toValue(e))
		}
		return arr
	case map[string]any:
		d := cgpl.NewDict()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.Set(k, toValue(x[k]))
		}
		return d
	}
	b, _ := json.Marshal(v)
	return cgpl.String(b)
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

package cgpl

import (
	"fmt"
	"strings"
	"time"
)

// This file holds the timestamp functions (spec §4.5). A timestamp has no
// zone: "local" timestamps are GMT ones moved by the zone's offset, as in
// CommuniGate. Year..DateNumber read the timestamp's own fields.

func errBadZone(name string) error { return fmt.Errorf("unknown time zone %q", name) }

// timeFields returns the ordinary instant of v, or ok=false when v is not
// a timestamp or is the remote past or future.
func timeFields(v Value) (time.Time, bool) {
	t, ok := v.(Time)
	if !ok || t.Special != 0 {
		return time.Time{}, false
	}
	return t.T.UTC(), true
}

const monthAbbrs = "JanFebMarAprMayJunJulAugSepOctNovDec"

// monthName is "Jan".."Dec" for m in 1..12.
func monthName(m int) string { return monthAbbrs[3*(m-1) : 3*m] }

// YearOf is Year(t): the year; 0 for the remote past, 9999 for the remote
// future; null for anything but a timestamp.
func YearOf(v Value) Value {
	t, ok := v.(Time)
	switch {
	case !ok:
		return nil
	case t.Special < 0:
		return Number(0)
	case t.Special > 0:
		return Number(9999)
	}
	return Number(t.T.UTC().Year())
}

// MonthOf is Month(x): "Jan".."Dec" for a timestamp or a number 1..12;
// null otherwise (the remote past and future included).
func MonthOf(v Value) Value {
	if n, ok := v.(Number); ok {
		if n >= 1 && n <= 12 {
			return String(monthName(int(n)))
		}
		return nil
	}
	t, ok := timeFields(v)
	if !ok {
		return nil
	}
	return String(monthName(int(t.Month())))
}

// timeNumber applies f to the fields of an ordinary timestamp; null for
// anything else.
func timeNumber(v Value, f func(time.Time) int64) Value {
	t, ok := timeFields(v)
	if !ok {
		return nil
	}
	return Number(f(t))
}

// DateByMonthDay is midnight of year-month-day, null unless the three are
// numbers naming a real date in years 1..9999.
func DateByMonthDay(y, m, d Value) Value {
	yn, ok1 := y.(Number)
	mn, ok2 := m.(Number)
	dn, ok3 := d.(Number)
	if !ok1 || !ok2 || !ok3 || yn < 1 || yn > 9999 || mn < 1 || mn > 12 || dn < 1 || dn > 31 {
		return nil
	}
	t, ok := validDate(int(yn), int(mn), int(dn), 0, 0, 0, 0)
	if !ok {
		return nil
	}
	return t
}

// DateByYearDay is midnight of day yd (1 = 1 January) of year y, null
// unless both are numbers naming a real day in years 1..9999.
func DateByYearDay(y, yd Value) Value {
	yn, ok1 := y.(Number)
	dn, ok2 := yd.(Number)
	if !ok1 || !ok2 || yn < 1 || yn > 9999 || dn < 1 || dn > 366 {
		return nil
	}
	t := time.Date(int(yn), 1, int(dn), 0, 0, 0, 0, time.UTC)
	if t.Year() != int(yn) {
		return nil
	}
	return Time{T: t}
}

// GMTToLocalIn moves a GMT timestamp to the wall-clock time of loc; the
// special timestamps stay as they are, anything else gives null.
func GMTToLocalIn(v Value, loc *time.Location) Value {
	t, ok := v.(Time)
	if !ok {
		return nil
	}
	if t.Special != 0 {
		return t
	}
	_, off := t.T.In(loc).Zone()
	return timeAddSeconds(t, int64(off))
}

// LocalToGMTIn reads a timestamp as a wall-clock time of loc and returns
// the GMT one (for a wall-clock time that a change of offset skips or
// repeats, Go's time.Date rule decides).
func LocalToGMTIn(v Value, loc *time.Location) Value {
	t, ok := v.(Time)
	if !ok {
		return nil
	}
	if t.Special != 0 {
		return t
	}
	u := t.T.UTC()
	return TimeOf(time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), loc))
}

// LoadTimeZone finds a zone for SetTimeZone: "" or "HostOS" (the server's
// zone), "GMT" / "UTC", an IANA name ("Europe/Moscow"), an offset ("+0300",
// "-05:00", "+3"), or a CommuniGate-style name "(+0300) Moscow", whose
// offset is used when the rest is no IANA name.
func LoadTimeZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	switch strings.ToUpper(name) {
	case "", "HOSTOS":
		return time.Local, nil
	case "GMT", "UTC", "Z":
		return time.UTC, nil
	}
	if strings.HasPrefix(name, "(") {
		end := strings.IndexByte(name, ')')
		if end < 0 {
			return nil, errBadZone(name)
		}
		off, rest := name[1:end], strings.TrimSpace(name[end+1:])
		if rest != "" && !strings.Contains(rest, "..") {
			if loc, err := time.LoadLocation(strings.ReplaceAll(rest, " ", "_")); err == nil {
				return loc, nil
			}
		}
		return fixedZone(off, name)
	}
	if name[0] == '+' || name[0] == '-' {
		return fixedZone(name, name)
	}
	if strings.Contains(name, "..") {
		return nil, errBadZone(name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errBadZone(name)
	}
	return loc, nil
}

// fixedZone parses ±h, ±hh, ±hhmm or ±hh:mm.
func fixedZone(off, name string) (*time.Location, error) {
	if len(off) < 2 || (off[0] != '+' && off[0] != '-') {
		return nil, errBadZone(name)
	}
	digits := strings.ReplaceAll(off[1:], ":", "")
	var h, m int
	var ok bool
	switch len(digits) {
	case 1, 2:
		h, ok = smallNumber(digits)
	case 4:
		var ok2 bool
		h, ok = smallNumber(digits[:2])
		m, ok2 = smallNumber(digits[2:])
		ok = ok && ok2
	}
	if !ok || h > 14 || m > 59 {
		return nil, errBadZone(name)
	}
	secs := h*3600 + m*60
	if off[0] == '-' {
		secs = -secs
	}
	return time.FixedZone(name, secs), nil
}

// TimeFuncs returns the timestamp functions that need a clock or a zone:
// GMTTime, LocalTime, GMTToLocal, LocalToGMT and GetTimeZoneName, reading
// the clock with now and the zone with zone (called at each use, so that a
// task's SetTimeZone can change it). GMTTime and LocalTime have a
// resolution of one second. GetTimeZoneName gives null for time.Local
// (no zone selected: the server's own).
func TimeFuncs(now func() time.Time, zone func() *time.Location) []Pure {
	loc := func() *time.Location {
		if l := zone(); l != nil {
			return l
		}
		return time.Local
	}
	gmt := func() Time { return TimeOf(now().Truncate(time.Second)) }
	return []Pure{
		{Name: "GMTTime", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return gmt(), nil }},
		{Name: "LocalTime", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) {
			return GMTToLocalIn(gmt(), loc()), nil
		}},
		{Name: "GMTToLocal", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return GMTToLocalIn(a[0], loc()), nil
		}},
		{Name: "LocalToGMT", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return LocalToGMTIn(a[0], loc()), nil
		}},
		{Name: "GetTimeZoneName", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) {
			l := loc()
			if l == time.Local {
				return nil, nil
			}
			return String(l.String()), nil
		}},
	}
}

func libTime() []Pure {
	num := func(name string, f func(time.Time) int64) Pure {
		return Pure{Name: name, MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return timeNumber(a[0], f), nil
		}}
	}
	return []Pure{
		{Name: "Date", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return DateOf(a[0]), nil }},
		{Name: "Year", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return YearOf(a[0]), nil }},
		{Name: "Month", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return MonthOf(a[0]), nil }},
		num("MonthNum", func(t time.Time) int64 { return int64(t.Month()) }),
		num("MonthDay", func(t time.Time) int64 { return int64(t.Day()) }),
		{Name: "WeekDay", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			t, ok := timeFields(a[0])
			if !ok {
				return nil, nil
			}
			return String(t.Weekday().String()[:3]), nil
		}},
		num("YearDay", func(t time.Time) int64 { return int64(t.YearDay()) }),
		num("TimeOfDay", func(t time.Time) int64 { return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()) }),
		num("DateNumber", func(t time.Time) int64 {
			s := t.Unix()
			d := s / 86400
			if s%86400 < 0 {
				d--
			}
			return d
		}),
		{Name: "DateByMonthDay", MinArgs: 3, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			return DateByMonthDay(a[0], a[1], a[2]), nil
		}},
		{Name: "DateByYearDay", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			return DateByYearDay(a[0], a[1]), nil
		}},
	}
}

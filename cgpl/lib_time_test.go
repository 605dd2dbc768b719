package cgpl

import (
	"strings"
	"testing"
	"time"
)

func TestTimeFields(t *testing.T) {
	t0 := ltTime(2008, 11, 5, 10, 20, 30) // a Wednesday
	ltRun(t, []ltCase{
		{fn: "Year", args: []Value{t0}, want: Number(2008)},
		{fn: "Year", args: []Value{RemotePast}, want: Number(0)},
		{fn: "Year", args: []Value{RemoteFuture}, want: Number(9999)},
		{fn: "Year", args: []Value{Number(2008)}, want: nil},
		{fn: "Month", args: []Value{t0}, want: String("Nov")},
		{fn: "Month", args: []Value{Number(1)}, want: String("Jan")},
		{fn: "Month", args: []Value{Number(12)}, want: String("Dec")},
		{fn: "Month", args: []Value{Number(0)}, want: nil},
		{fn: "Month", args: []Value{Number(13)}, want: nil},
		{fn: "Month", args: []Value{String("1")}, want: nil},
		{fn: "Month", args: []Value{RemotePast}, want: nil},
		{fn: "MonthNum", args: []Value{t0}, want: Number(11)},
		{fn: "MonthNum", args: []Value{nil}, want: nil},
		{fn: "MonthDay", args: []Value{t0}, want: Number(5)},
		{fn: "MonthDay", args: []Value{RemoteFuture}, want: nil},
		{fn: "WeekDay", args: []Value{t0}, want: String("Wed")},
		{fn: "WeekDay", args: []Value{ltTime(2026, 11, 22, 0, 0, 0)}, want: String("Sun")},
		{fn: "WeekDay", args: []Value{Number(1)}, want: nil},
		{fn: "YearDay", args: []Value{t0}, want: Number(310)},
		{fn: "YearDay", args: []Value{ltTime(2024, 12, 31, 0, 0, 0)}, want: Number(366)},
		{fn: "YearDay", args: []Value{ltTime(2025, 1, 1, 0, 0, 0)}, want: Number(1)},
		{fn: "YearDay", args: []Value{String("x")}, want: nil},
		{fn: "TimeOfDay", args: []Value{t0}, want: Number(10*3600 + 20*60 + 30)},
		{fn: "TimeOfDay", args: []Value{ltTime(2008, 11, 5, 0, 0, 0)}, want: Number(0)},
		{fn: "TimeOfDay", args: []Value{ltTime(2008, 11, 5, 23, 59, 59)}, want: Number(86399)},
		{fn: "TimeOfDay", args: []Value{RemotePast}, want: nil},
		{fn: "DateNumber", args: []Value{t0}, want: Number(14188)},
		{fn: "DateNumber", args: []Value{ltTime(1970, 1, 1, 23, 59, 59)}, want: Number(0)},
		{fn: "DateNumber", args: []Value{ltTime(1969, 12, 31, 12, 0, 0)}, want: Number(-1)},
		{fn: "DateNumber", args: []Value{Number(5)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(2008), Number(11), Number(5)}, want: ltTime(2008, 11, 5, 0, 0, 0)},
		{fn: "DateByMonthDay", args: []Value{Number(2024), Number(2), Number(29)}, want: ltTime(2024, 2, 29, 0, 0, 0)},
		{fn: "DateByMonthDay", args: []Value{Number(2023), Number(2), Number(29)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(2008), Number(13), Number(1)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(2008), Number(0), Number(1)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(2008), Number(1), Number(0)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(2008), Number(4), Number(31)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(0), Number(1), Number(1)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(10000), Number(1), Number(1)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{Number(-1), Number(1), Number(1)}, want: nil},
		{fn: "DateByMonthDay", args: []Value{String("2008"), Number(1), Number(1)}, want: nil},
		{fn: "DateByYearDay", args: []Value{Number(2006), Number(32)}, want: ltTime(2006, 2, 1, 0, 0, 0)},
		{fn: "DateByYearDay", args: []Value{Number(2024), Number(366)}, want: ltTime(2024, 12, 31, 0, 0, 0)},
		{fn: "DateByYearDay", args: []Value{Number(2023), Number(366)}, want: nil},
		{fn: "DateByYearDay", args: []Value{Number(2023), Number(0)}, want: nil},
		{fn: "DateByYearDay", args: []Value{Number(9999), Number(365)}, want: ltTime(9999, 12, 31, 0, 0, 0)},
		{fn: "DateByYearDay", args: []Value{Number(0), Number(1)}, want: nil},
		{fn: "DateByYearDay", args: []Value{nil, Number(1)}, want: nil},
	})
}

// ltTimeFuncs calls one of TimeFuncs with a fixed clock and zone.
func ltTimeFuncs(t *testing.T, now time.Time, loc *time.Location, name string, args ...Value) Value {
	t.Helper()
	for _, p := range TimeFuncs(func() time.Time { return now }, func() *time.Location { return loc }) {
		if p.Name == name {
			if len(args) < p.MinArgs || len(args) > p.MaxArgs {
				t.Fatalf("%s: bad arity", name)
			}
			v, err := p.Fn(args)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return v
		}
	}
	t.Fatalf("no %s in TimeFuncs", name)
	return nil
}

func TestClockAndZones(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 7, 1, 12, 0, 0, 987654321, time.UTC)
	if got := ltTimeFuncs(t, now, moscow, "GMTTime"); !Equals(got, ltTime(2026, 7, 1, 12, 0, 0)) {
		t.Errorf("GMTTime = %s", ObjectToString(got))
	}
	if got := ltTimeFuncs(t, now, moscow, "LocalTime"); !Equals(got, ltTime(2026, 7, 1, 15, 0, 0)) {
		t.Errorf("LocalTime (Moscow) = %s", ObjectToString(got))
	}
	if got := ltTimeFuncs(t, now, berlin, "LocalTime"); !Equals(got, ltTime(2026, 7, 1, 14, 0, 0)) { // summer time
		t.Errorf("LocalTime (Berlin, July) = %s", ObjectToString(got))
	}
	cases := []struct {
		fn   string
		loc  *time.Location
		arg  Value
		want Value
	}{
		{"GMTToLocal", berlin, ltTime(2026, 1, 15, 12, 0, 0), ltTime(2026, 1, 15, 13, 0, 0)},
		{"GMTToLocal", berlin, ltTime(2026, 7, 15, 12, 0, 0), ltTime(2026, 7, 15, 14, 0, 0)},
		{"GMTToLocal", time.UTC, ltTime(2026, 7, 15, 12, 0, 0), ltTime(2026, 7, 15, 12, 0, 0)},
		{"GMTToLocal", berlin, RemoteFuture, RemoteFuture},
		{"GMTToLocal", berlin, String("x"), nil},
		{"GMTToLocal", moscow, ltTime(9999, 12, 31, 23, 0, 0), RemoteFuture},
		{"LocalToGMT", berlin, ltTime(2026, 1, 15, 13, 0, 0), ltTime(2026, 1, 15, 12, 0, 0)},
		{"LocalToGMT", berlin, ltTime(2026, 7, 15, 14, 0, 0), ltTime(2026, 7, 15, 12, 0, 0)},
		{"LocalToGMT", moscow, ltTime(2026, 7, 15, 15, 0, 0), ltTime(2026, 7, 15, 12, 0, 0)},
		{"LocalToGMT", berlin, RemotePast, RemotePast},
		{"LocalToGMT", berlin, nil, nil},
	}
	for _, c := range cases {
		if got := ltTimeFuncs(t, now, c.loc, c.fn, c.arg); !Equals(got, c.want) {
			t.Errorf("%s(%s) in %s = %s, want %s", c.fn, ObjectToString(c.arg), c.loc, ObjectToString(got), ObjectToString(c.want))
		}
	}
	if got := ltTimeFuncs(t, now, moscow, "GetTimeZoneName"); got != String("Europe/Moscow") {
		t.Errorf("GetTimeZoneName = %v", got)
	}
	if got := ltTimeFuncs(t, now, time.Local, "GetTimeZoneName"); got != nil {
		t.Errorf("GetTimeZoneName (server zone) = %v", got)
	}
	if got := ltTimeFuncs(t, now, nil, "GetTimeZoneName"); got != nil {
		t.Errorf("GetTimeZoneName (nil zone) = %v", got)
	}
	// The Library's own clock is real: GMTTime is a timestamp near now.
	v, err := ltCall(t, "GMTTime")
	if tm, ok := v.(Time); err != nil || !ok || time.Since(tm.T) > time.Minute || tm.T.Nanosecond() != 0 {
		t.Errorf("GMTTime() = %v, %v", v, err)
	}
	if v, err := ltCall(t, "LocalTime"); err != nil || v == nil {
		t.Errorf("LocalTime() = %v, %v", v, err)
	}
	for _, fn := range []string{"GMTToLocal", "LocalToGMT"} {
		if v, err := ltCall(t, fn, RemotePast); err != nil || !Equals(v, RemotePast) {
			t.Errorf("%s(remote past) = %v, %v", fn, v, err)
		}
	}
	if _, err := ltCall(t, "GetTimeZoneName"); err != nil {
		t.Error(err)
	}
}

func TestLoadTimeZone(t *testing.T) {
	cases := []struct {
		name   string
		offset int // in July 2026, seconds east of GMT
		bad    bool
	}{
		{name: "GMT"},
		{name: "utc"},
		{name: "Europe/Moscow", offset: 3 * 3600},
		{name: "America/New_York", offset: -4 * 3600},
		{name: "+0300", offset: 3 * 3600},
		{name: "-05:30", offset: -(5*3600 + 30*60)},
		{name: "+3", offset: 3 * 3600},
		{name: "(+0300) Europe/Moscow", offset: 3 * 3600},
		{name: "(+0100) Central Europe", offset: 3600}, // not an IANA name: the offset
		{name: "(-0800) Pacific Time", offset: -8 * 3600},
		{name: "Mars/Olympus", bad: true},
		{name: "../../etc/passwd", bad: true},
		{name: "/etc/localtime", bad: true},
		{name: "+25", bad: true},
		{name: "+03:99", bad: true},
		{name: "+", bad: true},
		{name: "(+0300 Moscow", bad: true},
		{name: "(garbage) x", bad: true},
	}
	when := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		loc, err := LoadTimeZone(c.name)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "unknown time zone") {
				t.Errorf("LoadTimeZone(%q) = %v, %v; want an error", c.name, loc, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("LoadTimeZone(%q): %v", c.name, err)
			continue
		}
		if _, off := when.In(loc).Zone(); off != c.offset {
			t.Errorf("LoadTimeZone(%q): offset %d, want %d", c.name, off, c.offset)
		}
	}
	for _, name := range []string{"", "HostOS", "hostos"} {
		if loc, err := LoadTimeZone(name); err != nil || loc != time.Local {
			t.Errorf("LoadTimeZone(%q) = %v, %v; want time.Local", name, loc, err)
		}
	}
}

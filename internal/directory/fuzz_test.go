package directory_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/internal/directory"
)

var hoursRE = func(s string) bool {
	// HH:MM-HH:MM with a valid clock, end 24:00 allowed, start < end.
	a, b, ok := strings.Cut(s, "-")
	valid := func(t string, end bool) bool {
		if len(t) != 5 || t[2] != ':' {
			return false
		}
		if end && t == "24:00" {
			return true
		}
		h, m := t[:2], t[3:]
		return h >= "00" && h <= "23" && m >= "00" && m <= "59" &&
			strings.Trim(h+m, "0123456789") == ""
	}
	return ok && valid(a, false) && valid(b, true) && a < b
}

func FuzzParseWorkingHours(f *testing.F) {
	f.Add("mon-fri", "09:00-18:00", "sat,sun", "off")
	f.Add("mon", "09:00-13:00,14:00-18:00", "mon", "09:00-13:00,14:00-18:00")
	f.Add("mon-fri", "09:00-18:00", "fri", "10:00-11:00")
	f.Add("fri-mon", "24:00-24:00", "", "")
	f.Add(" Tue - THU ", " 00:00 - 24:00 ", "sun,sat,sun", "OFF")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := map[string]string{k1: v1, k2: v2}
		out, err := directory.ParseWorkingHours(in)
		if err != nil {
			if !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		for day, v := range out {
			if !slices.Contains(directory.Weekdays, day) {
				t.Fatalf("ParseWorkingHours(%q) produced key %q", in, day)
			}
			if v == "off" {
				continue
			}
			for _, span := range strings.Split(v, ",") {
				if !hoursRE(span) {
					t.Fatalf("ParseWorkingHours(%q) produced %s=%q", in, day, v)
				}
			}
		}
		// The output is canonical: parsing it again gives it back.
		again, err := directory.ParseWorkingHours(out)
		if err != nil || !maps.Equal(again, out) {
			t.Fatalf("ParseWorkingHours(%q) = %q is not a fixed point: %q, %v", in, out, again, err)
		}
	})
}

func FuzzDocCheck(f *testing.F) {
	seed, err := json.Marshal(testDoc())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"domains":[{"name":"a.test","main":true,"accounts":[{"name":"alice","aliases":["100"],"workingHours":{"mon-fri":"09:00-18:00"},"rules":[{"divert":"noanswer","to":"bob","after":"20s"}],"timezone":"UTC","settings":{"x":[1,{"y":null}]}}],"forwarders":{"sales":"alice@b.test"}}]}`))
	f.Add([]byte(`{"domains":[{"name":"bad name","accounts":[{"name":""}]},{"name":"A.test"},{"name":"a.test"}]}`))
	f.Add([]byte(`{"domains":[{"name":"a.test","accounts":[{"name":"a","aliases":null,"realName":null,"rules":null}]}]}`))
	f.Add([]byte(`{"domains":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc directory.Doc
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		err := doc.Check()
		if err != nil && !errors.Is(err, directory.ErrInvalid) {
			t.Fatalf("Check error %v is not ErrInvalid", err)
		}
		// Check does not modify the document.
		var again directory.Doc
		if json.Unmarshal(data, &again) == nil {
			before, _ := json.Marshal(again)
			after, _ := json.Marshal(doc)
			if string(before) != string(after) {
				t.Fatalf("Check modified the document:\n%s\n%s", before, after)
			}
		}
	})
}

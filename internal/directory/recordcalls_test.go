package directory_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ringo-pbx/ringo/internal/directory"
)

// recordCalls comes from the provisioning file, survives a reload, is
// kept when a later apply leaves it out and is withdrawn by false.
func TestRecordCallsSetting(t *testing.T) {
	doc := func(src string) directory.Doc {
		t.Helper()
		var d directory.Doc
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	f := newFixture(t)
	steps := []struct {
		name    string
		src     string
		want    map[string]bool
		changed int
	}{
		{"set", "domains:\n  - name: a.test\n    accounts:\n      - name: sales\n        recordCalls: true\n      - name: clerk\n",
			map[string]bool{"sales": true, "clerk": false}, 3},
		{"left out", "domains:\n  - name: a.test\n    accounts:\n      - name: sales\n      - name: clerk\n",
			map[string]bool{"sales": true, "clerk": false}, 0},
		{"withdrawn", "domains:\n  - name: a.test\n    accounts:\n      - name: sales\n        recordCalls: false\n",
			map[string]bool{"sales": false, "clerk": false}, 1},
	}
	for _, st := range steps {
		rep, err := f.dir.Apply(f.ctx, doc(st.src))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if rep.Changed != st.changed {
			t.Errorf("%s: %d changed, want %d", st.name, rep.Changed, st.changed)
		}
		for _, d := range []*directory.Directory{f.dir, f.reopen()} {
			for name, want := range st.want {
				if a, _ := d.Account("a.test", name); a.Prefs.RecordCalls != want {
					t.Errorf("%s: %s recordCalls = %v, want %v", st.name, name, a.Prefs.RecordCalls, want)
				}
			}
		}
	}
}

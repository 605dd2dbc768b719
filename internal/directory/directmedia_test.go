package directory_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ringo-pbx/ringo/internal/directory"
)

// directMedia comes from the provisioning file, survives a reload, is kept
// when a later apply or a PUT leaves it out and is withdrawn by false.
func TestDirectMediaSetting(t *testing.T) {
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
	yes, no := true, false
	steps := []struct {
		name    string
		src     string                // a document to apply, or
		spec    *directory.DomainSpec // a domain to put
		want    map[string]bool
		changed int
	}{
		{"set", "domains:\n  - name: lan.test\n    directMedia: true\n  - name: wan.test\n", nil,
			map[string]bool{"lan.test": true, "wan.test": false}, 2},
		{"left out", "domains:\n  - name: lan.test\n  - name: wan.test\n", nil,
			map[string]bool{"lan.test": true, "wan.test": false}, 0},
		{"main set, kept", "", &directory.DomainSpec{Name: "lan.test", Main: true},
			map[string]bool{"lan.test": true, "wan.test": false}, 1},
		{"same again", "", &directory.DomainSpec{Name: "lan.test", Main: true, DirectMedia: &yes},
			map[string]bool{"lan.test": true, "wan.test": false}, 0},
		{"put", "", &directory.DomainSpec{Name: "wan.test", DirectMedia: &yes},
			map[string]bool{"lan.test": true, "wan.test": true}, 1},
		{"withdrawn", "domains:\n  - name: lan.test\n    main: true\n    directMedia: false\n", nil,
			map[string]bool{"lan.test": false, "wan.test": true}, 1},
		{"withdrawn by put", "", &directory.DomainSpec{Name: "wan.test", DirectMedia: &no},
			map[string]bool{"lan.test": false, "wan.test": false}, 1},
	}
	for _, st := range steps {
		changed := 0
		if st.spec != nil {
			ok, err := f.dir.PutDomain(f.ctx, *st.spec)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if ok {
				changed = 1
			}
		} else {
			rep, err := f.dir.Apply(f.ctx, doc(st.src))
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			changed = rep.Changed
		}
		if changed != st.changed {
			t.Errorf("%s: %d changed, want %d", st.name, changed, st.changed)
		}
		for _, d := range []*directory.Directory{f.dir, f.reopen()} {
			for name, want := range st.want {
				if dm, ok := d.Domain(name); !ok || dm.Prefs.DirectMedia != want {
					t.Errorf("%s: %s directMedia = %v (found %v), want %v", st.name, name, dm.Prefs.DirectMedia, ok, want)
				}
			}
		}
	}
	if dm, _ := f.dir.Domain("lan.test"); !dm.Main {
		t.Errorf("lan.test lost main: %+v", dm)
	}
}

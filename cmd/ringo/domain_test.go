package main

import (
	"encoding/json"
	"testing"
)

// `ringo domain add --direct-media` sets the domain's directMedia, leaving
// the flag out keeps it, and --direct-media=false withdraws it.
func TestDomainDirectMediaCLI(t *testing.T) {
	url := apiServer(t)
	t.Setenv("RINGO_TOKEN", testToken)
	steps := []struct {
		args []string
		want bool
	}{
		{[]string{"domain", "add", "c.test", "--direct-media"}, true},
		{[]string{"domain", "add", "c.test", "--main"}, true},
		{[]string{"domain", "add", "c.test", "--direct-media=false"}, false},
	}
	for _, st := range steps {
		if out, code := runCLIErr(t, append([]string{"--server", url}, st.args...)...); code != 0 {
			t.Fatalf("ringo %v: exit %d: %s", st.args, code, out)
		}
		out, code := runCLIErr(t, "--server", url, "--json", "domain", "list")
		var doms []struct {
			Name  string `json:"name"`
			Prefs struct {
				DirectMedia bool `json:"directMedia"`
			} `json:"prefs"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &doms) != nil {
			t.Fatalf("domain list: exit %d: %s", code, out)
		}
		found := false
		for _, d := range doms {
			if d.Name == "c.test" {
				found = true
				if d.Prefs.DirectMedia != st.want {
					t.Errorf("after ringo %v: directMedia %v, want %v", st.args, d.Prefs.DirectMedia, st.want)
				}
			}
		}
		if !found {
			t.Fatalf("after ringo %v: no c.test in %s", st.args, out)
		}
	}
	out, code := runCLIErr(t, "--server", url, "domain", "list")
	if code != 0 {
		t.Fatalf("domain list: exit %d: %s", code, out)
	}
	t.Logf("ringo domain list:\n%s", out)
}

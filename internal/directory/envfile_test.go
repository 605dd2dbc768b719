package directory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/internal/directory"
)

func TestDocEnvironmentCheck(t *testing.T) {
	data := []byte("x")
	tests := []struct {
		name  string
		files []directory.EnvFile
		want  string // in the error; "" for none
	}{
		{"file's base name", []directory.EnvFile{{File: "prompts/Welcome.wav", Data: data}}, ""},
		{"name and language", []directory.EnvFile{{File: "w.wav", Name: "apps/Welcome.wav", Lang: "Russian", Data: data}}, ""},
		{"empty content", []directory.EnvFile{{Name: "empty.txt", Data: []byte{}}}, ""},
		{"same name in two languages", []directory.EnvFile{{Name: "a.wav", Data: data}, {Name: "a.wav", Lang: "russian", Data: data}}, ""},
		{"no name", []directory.EnvFile{{Data: data}}, "needs file or name"},
		{"no content", []directory.EnvFile{{File: "a.wav"}}, "no content"},
		{"parent", []directory.EnvFile{{Name: "../a.wav", Data: data}}, `".." are not allowed`},
		{"hidden", []directory.EnvFile{{Name: ".a", Data: data}}, "starting with"},
		{"bad language", []directory.EnvFile{{Name: "a.wav", Lang: "ru/x", Data: data}}, "language"},
		{"archive", []directory.EnvFile{{File: "pack.tar.gz", Data: data}}, "archive"},
		{"twice", []directory.EnvFile{{Name: "a.wav", Data: data}, {Name: "A.WAV", Data: data}}, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, doc := range []directory.Doc{
				{Server: &directory.ServerDoc{Environment: tc.files}},
				{Domains: []directory.DomainDoc{{DomainSpec: directory.DomainSpec{Name: "a.test"}, Environment: tc.files}}},
			} {
				err := doc.Check()
				if tc.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Check: %v; want %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "invalid: invalid") {
					t.Errorf("invalid twice: %v", err)
				}
			}
		})
	}
}

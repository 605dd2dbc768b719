package pbx

import (
	"context"

	"github.com/ringo-pbx/ringo/cgpl"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
)

// Stored serves tasks from the environments in s: the domain's, the
// server's, then the stock one.
func Stored(s *envir.Store) Environments { return storedEnv{s} }

type storedEnv struct{ s *envir.Store }

func (e storedEnv) Program(ctx context.Context, domain, lang, name string, reg *cgpl.Registry) (*cgpl.Module, error) {
	return e.s.Program(ctx, domain, lang, name, reg)
}

func (e storedEnv) Open(domain, lang, name string) (File, error) {
	f, err := e.s.Resolve(domain, lang, name)
	if err != nil {
		return File{}, err
	}
	out := File{Layer: f.Layer, Name: f.Path, Path: f.DiskPath}
	if f.DiskPath == "" {
		// A stock file, held in the binary.
		if out.Data, err = f.Read(); err != nil {
			return File{}, err
		}
	}
	return out, nil
}

package envir

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
)

// Loader returns the cgpl.Loader of the files a task of an account in
// domain, in language lang, sees: what cgpl loads (modules, ReadEnvirFile)
// is resolved as Resolve does.
//
// cgpl reads a file of ReadEnvirFile as "LANG/name" and, when that is
// missing, as "name"; modules as "Module.sppr". The loader strips a first
// folder equal to the task's language and resolves the rest with the
// language, through every layer (domain language folder, domain root,
// server language folder, …), and resolves any other name with the
// language too; so the first read already gives the per-layer answer, and
// the second, made only when the first found nothing, finds nothing
// either. The task's language is lang, or what the function the task's
// context carries (WithLanguage) says, for tasks that change it.
func (s *Store) Loader(domain, lang string) cgpl.Loader {
	return loader{s: s, domain: domain, lang: lang}
}

type langKey struct{}

// WithLanguage returns a context that makes the Loaders of a task read its
// language from current (cgpl's Task.Language) instead of the language
// they were made with. The host runs the task with it (the context given
// to Module.NewTask), so that a program's SetLanguage applies to
// ReadEnvirFile and to modules loaded by ProcCall.
func WithLanguage(ctx context.Context, current func() string) context.Context {
	return context.WithValue(ctx, langKey{}, current)
}

type loader struct {
	s            *Store
	domain, lang string
	slot         *progSlot // the program the loads are for; nil if none
}

// Load resolves name and reads the file, bounded as cgpl's loaders are.
// The file name in messages names the layer: "server/russian/x.sppr".
func (l loader) Load(ctx context.Context, name string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	lang := l.lang
	if cur, ok := ctx.Value(langKey{}).(func() string); ok {
		lang = cur()
	}
	if first, rest, ok := strings.Cut(name, "/"); ok && lang != "" && strings.EqualFold(first, lang) {
		name = rest
	}
	var note noteFunc
	if l.slot != nil && strings.HasSuffix(strings.ToLower(name), ".sppr") {
		// Modules the program loads, as it is linked or later by
		// ProcCall, make its cached version stale when they change.
		note = l.slot.note
	}
	f, err := l.s.resolve(l.domain, lang, name, note)
	if err != nil {
		return nil, name, err
	}
	src, err := f.read(cgpl.MaxLoadSize)
	return src, f.String(), err
}

// progKey identifies a cached program: the same name may be a different
// file for another domain or language, and compiles against the
// built-ins of a registry.
type progKey struct {
	domain, lang, name string
	reg                *cgpl.Registry
}

// progSlot is a program's cache entry: the compiled, linked module, and
// what it was made from: the store's generation then, and the directories
// and files on disk its lookups went through (so that a file changed, added
// or removed behind the store's back is noticed too).
type progSlot struct {
	env   *cgpl.Environment // its loader notes into this slot
	build sync.Mutex        // one compilation at a time

	mu    sync.Mutex
	mod   *cgpl.Module
	gen   uint64
	watch map[string]stamp
}

type stamp struct {
	mode  fs.FileMode
	size  int64
	mtime time.Time
}

func stampOf(fi fs.FileInfo) stamp {
	return stamp{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime()}
}

// maxWatch bounds the paths a program's entry watches.
const maxWatch = 4096

func (p *progSlot) note(path string, fi fs.FileInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.watch[path]; !ok && len(p.watch) < maxWatch {
		p.watch[path] = stampOf(fi)
	}
}

// current returns the cached module if nothing it was made from changed.
func (p *progSlot) current(gen uint64) *cgpl.Module {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mod == nil || p.gen != gen {
		return nil
	}
	for path, st := range p.watch {
		fi, err := os.Lstat(path)
		if err != nil || stampOf(fi) != st {
			return nil
		}
	}
	return p.mod
}

// Program compiles and links program name (the file name.sppr, resolved
// as Resolve does, with the modules it calls) for a task of an account in
// domain, in language lang, with the built-ins of reg. The module is
// cached; a change to the environments (through the store, or to a file or
// folder the program was looked up in behind its back) makes the next
// Program compile again, so a changed program takes effect for the next
// task. Tasks already running keep the version they started with.
// Compile errors come back as a cgpl.ErrorList; a missing program as an
// error wrapping fs.ErrNotExist.
func (s *Store) Program(ctx context.Context, domain, lang, name string, reg *cgpl.Registry) (*cgpl.Module, error) {
	var err error
	if domain != "" {
		if domain, err = checkDomain(domain); err != nil {
			return nil, err
		}
	}
	if lang, err = CheckLang(lang); err != nil {
		return nil, err
	}
	slot := s.slot(progKey{domain: domain, lang: lang, name: strings.ToLower(name), reg: reg})
	if m := slot.current(s.gen.Load()); m != nil {
		return m, nil
	}
	slot.build.Lock()
	defer slot.build.Unlock()
	gen := s.gen.Load()
	if m := slot.current(gen); m != nil {
		return m, nil // compiled meanwhile
	}
	slot.mu.Lock()
	slot.mod, slot.watch = nil, map[string]stamp{}
	slot.mu.Unlock()
	// The generation is read before the files: a change while they are
	// read leaves the entry stale, to be compiled again.
	m, err := slot.env.Program(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", name, err)
	}
	slot.mu.Lock()
	slot.mod, slot.gen = m, gen
	slot.mu.Unlock()
	return m, nil
}

// slot returns the cache entry of key, making it.
func (s *Store) slot(key progKey) *progSlot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.progs[key]; ok {
		return p
	}
	if len(s.progs) >= maxPrograms {
		clear(s.progs) // those in use stay usable; they are just not found again
	}
	p := &progSlot{watch: map[string]stamp{}}
	p.env = cgpl.NewEnvironment(loader{s: s, domain: key.domain, lang: key.lang, slot: p}, key.reg)
	s.progs[key] = p
	return p
}

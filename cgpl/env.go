package cgpl

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Environment compiles programs and the modules they call from one set of
// files, read through a Loader. A call M::F(…) (declared with "function
// M::F(x) external;") runs section F of module M, the program in file
// M.sppr of the environment.
//
// Program and Compile load the program and, transitively, every module it
// declares external sections of; each file is compiled once and kept while
// its content stays the same (a changed file is compiled again at the next
// Program), and the declarations are checked against the modules. The
// Module they return is linked to those versions for all of its tasks, so
// a host calls Program for each task it starts to run the current files.
// Modules may call each other in a cycle. Each task has its own task-level
// variables of each module, initialised when the task first calls into the
// module. ReadEnvirFile reads files through the same Loader.
//
// An Environment is safe for concurrent use.
type Environment struct {
	loader Loader
	reg    *Registry

	mu    sync.Mutex
	units map[string]*unit // compiled modules, by lower-case module name
}

// unit is a compiled file of the environment.
type unit struct {
	fileName string
	sum      [sha256.Size]byte
	mod      *Module
}

// NewEnvironment returns an environment over loader whose programs may call
// the built-ins of reg.
func NewEnvironment(loader Loader, reg *Registry) *Environment {
	return &Environment{loader: loader, reg: reg, units: map[string]*unit{}}
}

// ModuleFile is the file of module name: name.sppr.
func ModuleFile(name string) string { return name + ".sppr" }

// Program loads, compiles and links module name (file name.sppr) and the
// modules it calls. Compile errors, in that file or in the modules, and
// external declarations that do not match the modules come back as an
// ErrorList; a file that cannot be read as another error.
func (e *Environment) Program(ctx context.Context, name string) (*Module, error) {
	if !isModuleName(name) {
		return nil, fmt.Errorf("%q is not a module name", name)
	}
	u, err := e.unit(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.link(ctx, strings.ToLower(name), u)
}

// Compile compiles and links a program whose source the caller has (as
// "ringo cgpl run FILE" does) with the modules of the environment it calls.
// fileName names it in messages; its base name without the extension is
// its module name, for modules that call back into it.
func (e *Environment) Compile(ctx context.Context, fileName string, src []byte) (*Module, error) {
	base := filepath.Base(fileName)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	u, err := e.compileUnit(name, fileName, src)
	if err != nil {
		return nil, err
	}
	return e.link(ctx, strings.ToLower(name), u)
}

func isModuleName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(synIsLetter(r) || i > 0 && (r >= '0' && r <= '9' || r == '_')) {
			return false
		}
	}
	return true
}

// loadModule reads the file of module name: name.sppr as written, else
// (file names being case-sensitive where module names are not) in lower
// case.
func (e *Environment) loadModule(ctx context.Context, name string) ([]byte, string, error) {
	src, fileName, err := e.loader.Load(ctx, ModuleFile(name))
	if errors.Is(err, fs.ErrNotExist) && strings.ToLower(name) != name {
		if s, f, err2 := e.loader.Load(ctx, ModuleFile(strings.ToLower(name))); err2 == nil {
			return s, f, nil
		}
	}
	return src, fileName, err
}

// unit loads module name and compiles it unless its content is unchanged.
func (e *Environment) unit(ctx context.Context, name string) (*unit, error) {
	src, fileName, err := e.loadModule(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.compileUnit(name, fileName, src)
}

func (e *Environment) compileUnit(name, fileName string, src []byte) (*unit, error) {
	key := strings.ToLower(name)
	sum := sha256.Sum256(src)
	e.mu.Lock()
	u := e.units[key]
	e.mu.Unlock()
	if u != nil && u.sum == sum && u.fileName == fileName {
		return u, nil
	}
	mod, err := Compile(fileName, src, e.reg)
	if err != nil {
		return nil, err
	}
	u = &unit{fileName: fileName, sum: sum, mod: mod}
	e.mu.Lock()
	e.units[key] = u
	e.mu.Unlock()
	return u, nil
}

// linkSet is the modules a program runs with: those it and they declare
// external sections of, fixed when the program is linked, and those that
// ProcCall and FuncCall name at run time, loaded then.
type linkSet struct {
	env    *Environment
	static map[string]*Module // by lower-case name; read-only once linked

	mu  sync.Mutex
	dyn map[string]*Module
}

// link loads the modules the root calls, transitively, checks every
// external declaration against its module and returns the root linked to
// them.
func (e *Environment) link(ctx context.Context, rootName string, root *unit) (*Module, error) {
	m := *root.mod // the root linked to these versions; the unit stays as it is
	ls := &linkSet{env: e, static: map[string]*Module{rootName: &m}}
	m.links = ls
	var errs ErrorList
	failed := map[string]bool{}
	for queue := []*Module{&m}; len(queue) > 0; queue = queue[1:] {
		mod := queue[0]
		for _, s := range mod.prog.Sections {
			if !s.External || s.LModule == "" {
				continue
			}
			target, ok := ls.static[s.LModule]
			if !ok {
				if failed[s.LModule] {
					continue
				}
				u, err := e.unit(ctx, s.Module)
				if err != nil {
					if ctxErr := ctx.Err(); ctxErr != nil {
						return nil, ctxErr
					}
					failed[s.LModule] = true
					var el ErrorList
					if errors.As(err, &el) {
						errs = append(errs, &Error{Pos: s.NamePos, Msg: fmt.Sprintf("module %s does not compile", s.Module), Token: s.QualName()})
						errs = append(errs, el...)
					} else {
						errs = append(errs, &Error{Pos: s.NamePos, Msg: fmt.Sprintf("module %s: %v", s.Module, err), Token: s.QualName()})
					}
					continue
				}
				target = u.mod
				ls.static[s.LModule] = target
				queue = append(queue, target)
			}
			if msg := externalMismatch(s, target); msg != "" {
				errs = append(errs, &Error{Pos: s.NamePos, Msg: msg, Token: s.QualName()})
			}
		}
	}
	if len(errs) > 0 {
		// In the order found, so that a module's own errors follow the
		// declaration that made it load.
		return nil, errs
	}
	return &m, nil
}

// externalMismatch says how an external declaration disagrees with the
// section of its module ("" when it does not).
func externalMismatch(s *Section, target *Module) string {
	cd := target.sections[s.LName]
	where := target.file
	switch {
	case cd == nil || cd.body == nil || cd.ext:
		return fmt.Sprintf("module %s (%s) has no %s %s", s.Module, where, s.Kind, s.Name)
	case cd.kind != s.Kind:
		return fmt.Sprintf("%s is %s %s in module %s (%s), not %s %s", s.QualName(), article(cd.kind), cd.kind, s.Module, cd.pos, article(s.Kind), s.Kind)
	case cd.nparams != len(s.Params):
		return fmt.Sprintf("%s %s takes %s in module %s (%s), not %d", s.Kind, s.QualName(), synPlural(cd.nparams, "parameter"), s.Module, cd.pos, len(s.Params))
	}
	return ""
}

// module finds the module name (lower case) a task's program is linked
// with, loading it now when the program did not declare it (ProcCall,
// FuncCall).
func (ls *linkSet) module(ctx context.Context, lname, name string) (*Module, error) {
	if m, ok := ls.static[lname]; ok {
		return m, nil
	}
	ls.mu.Lock()
	m, ok := ls.dyn[lname]
	ls.mu.Unlock()
	if ok {
		return m, nil
	}
	u, err := ls.env.unit(ctx, name)
	if err != nil {
		return nil, err
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if m, ok := ls.dyn[lname]; ok {
		return m, nil // loaded meanwhile by another task of the program
	}
	if ls.dyn == nil {
		ls.dyn = map[string]*Module{}
	}
	ls.dyn[lname] = u.mod
	return u.mod, nil
}

// moduleSection finds section lname of module mname for a call of an
// external section or a ProcCall / FuncCall of "M::name": the module, the
// section, or why there is none.
func (t *Task) moduleSection(mname, lname string) (*Module, *code, error) {
	ls := t.opts.links
	if ls == nil {
		return nil, nil, fmt.Errorf("module %s is not available: the program was compiled on its own, without an environment to load modules from", mname)
	}
	m, err := ls.module(t.ctx, strings.ToLower(mname), mname)
	if err != nil {
		var el ErrorList
		if errors.As(err, &el) {
			return nil, nil, fmt.Errorf("module %s does not compile: %v", mname, el[0])
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("module %s: %v", mname, err)
	}
	cd := m.sections[lname]
	if cd == nil || cd.body == nil || cd.ext {
		return nil, nil, fmt.Errorf("module %s (%s) has no section %s", mname, m.file, lname)
	}
	return m, cd, nil
}

// extTarget is where a call of an external section went last, for the
// program linked as links.
type extTarget struct {
	links *linkSet
	mod   *Module
	cd    *code
}

// externalCall compiles a call of an external section decl: the section is
// found in its module when the call runs (and remembered for the next
// calls of the same linked program), then run with that module's task
// variables.
func (c *compiler) externalCall(decl *code, pos Pos, args []exprFn) exprFn {
	nargs := len(args)
	var last atomic.Pointer[extTarget] // tasks of many programs run this closure in parallel
	return func(t *Task, f *frame) Value {
		tg := last.Load()
		if tg == nil || tg.links != t.opts.links {
			if decl.moduleName == "" {
				t.fail(pos, "%s is declared external without a module; declare it as %s M::%s(…) external;", decl.name, decl.kind, decl.name)
			}
			m, cd, err := t.moduleSection(decl.moduleName, decl.local)
			if err != nil {
				t.check(pos, err)
			}
			if cd.kind != decl.kind || cd.nparams != decl.nparams {
				t.fail(pos, "%s is %s %s of %s in module %s (%s), not the %s of %s it is declared as",
					decl.name, article(cd.kind), cd.kind, synPlural(cd.nparams, "parameter"), decl.moduleName, cd.pos, decl.kind, synPlural(decl.nparams, "parameter"))
			}
			tg = &extTarget{links: t.opts.links, mod: m, cd: cd}
			last.Store(tg)
		}
		return t.invokeIn(tg.mod, tg.cd, max(tg.cd.nlocals, nargs), args, f, pos)
	}
}

// invokeIn is invokeWith for a section of module m: the arguments are
// evaluated here, in the caller's module, and the section runs with m's
// task variables.
func (t *Task) invokeIn(m *Module, cd *code, n int, args []exprFn, f *frame, pos Pos) Value {
	base, locals := t.window(n)
	for i, a := range args {
		locals[i] = a(t, f)
	}
	r := t.runIn(m, cd, locals, pos)
	clearValues(locals)
	t.sp = base
	return r
}

// runIn runs cd of module m with its locals in place.
func (t *Task) runIn(m *Module, cd *code, locals []Value, pos Pos) Value {
	mod, global := t.mod, t.global
	if m != mod {
		t.enterModule(m)
	}
	r := cd.invoke(t, locals, pos)
	t.mod, t.global = mod, global
	return r
}

// enterModule makes m the task's current module: its sections are the ones
// ProcCall and spawn see, its task variables the ones the code reads. A
// module's variables are made, and initialised, the first time the task
// enters it.
func (t *Task) enterModule(m *Module) {
	if t.modGlobals == nil {
		t.modGlobals = map[*Module][]Value{t.mod: t.global}
	}
	g, ok := t.modGlobals[m]
	t.mod = m
	if ok {
		t.global = g
		return
	}
	g = make([]Value, m.nglobals)
	t.modGlobals[m] = g
	t.global = g
	t.initGlobals()
}

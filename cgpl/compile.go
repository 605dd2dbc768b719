package cgpl

import (
	"fmt"
	"strings"
)

// Module is a compiled program, ready to run as any number of tasks.
// Statements and expressions are compiled to Go closures once, so a task
// does not walk the syntax tree as it runs.
type Module struct {
	file     string
	prog     *Program
	sections map[string]*code
	globals  []globalVar
}

type globalVar struct {
	name string
	init exprFn
}

// frame holds one call's local variables.
type frame struct {
	locals []Value
	ret    Value
}

// ctl says how a statement ended.
type ctl uint8

const (
	ctlNext ctl = iota
	ctlExit     // exitif fired: leave the innermost loop
	ctlReturn
)

type (
	stmtFn func(t *Task, f *frame) ctl
	exprFn func(t *Task, f *frame) Value
)

// code is a compiled section.
type code struct {
	name    string
	kind    SectionKind
	nparams int
	nlocals int
	body    stmtFn
	ext     bool // external: lives in another module (not yet supported at run time)
}

// call runs the section with args.
func (c *code) call(t *Task, args []Value, pos Pos) Value {
	if c.ext {
		t.fail(pos, "%s is external; modules are not supported yet", c.name)
	}
	t.depth++
	if t.depth > t.opts.Limits.MaxDepth {
		t.fail(pos, "calls nested deeper than %d (runaway recursion?)", t.opts.Limits.MaxDepth)
	}
	f := &frame{locals: make([]Value, c.nlocals)}
	copy(f.locals, args)
	c.body(t, f)
	t.depth--
	if c.kind == EntrySection && t.depth == 0 {
		panic(stopped{}) // returning from the starting entry ends the task
	}
	return f.ret
}

// Compile parses, checks and compiles a program against the built-ins of
// reg. Errors come back as an ErrorList with file:line:col positions.
func Compile(filename string, src []byte, reg *Registry) (*Module, error) {
	prog, err := Parse(filename, src)
	if err != nil {
		return nil, err
	}
	if errs := Check(prog, reg.arity); len(errs) > 0 {
		return nil, errs
	}
	c := &compiler{reg: reg, prog: prog, mod: &Module{file: filename, prog: prog, sections: map[string]*code{}}}
	for _, v := range prog.Vars {
		for _, spec := range v.Vars {
			c.globalNames = append(c.globalNames, spec.LName)
		}
	}
	for _, s := range prog.Sections {
		key := s.Key()
		if _, ok := c.mod.sections[key]; !ok {
			c.mod.sections[key] = &code{name: s.QualName(), kind: s.Kind, nparams: len(s.Params), ext: s.External}
		}
	}
	for _, v := range prog.Vars {
		for _, spec := range v.Vars {
			g := globalVar{name: spec.LName}
			if spec.Init != nil {
				g.init = c.expr(&scope{}, spec.Init)
			}
			c.mod.globals = append(c.mod.globals, g)
		}
	}
	for _, s := range prog.Sections {
		if s.Body != nil {
			c.section(s)
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return c.mod, nil
}

type compiler struct {
	reg         *Registry
	prog        *Program
	mod         *Module
	globalNames []string
	errs        ErrorList
}

func (c *compiler) errorf(pos Pos, format string, args ...any) {
	c.errs = append(c.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// scope maps a section's variable names to frame slots. Any name that is
// not a parameter, a declared local or a task variable becomes a local on
// first use, as in CG/PL.
type scope struct {
	slots    map[string]int
	declared map[string]bool
	n        int
	globals  map[string]bool
}

func (s *scope) slot(name string) int {
	if i, ok := s.slots[name]; ok {
		return i
	}
	if s.slots == nil {
		s.slots = map[string]int{}
	}
	s.slots[name] = s.n
	s.n++
	return s.n - 1
}

func (c *compiler) section(s *Section) {
	sc := &scope{slots: map[string]int{}, declared: map[string]bool{}, globals: map[string]bool{}}
	for _, g := range c.globalNames {
		sc.globals[g] = true
	}
	for _, p := range s.Params {
		sc.slot(p.LName)
		sc.declared[p.LName] = true
	}
	body := c.block(sc, s.Body)
	cd := c.mod.sections[s.Key()]
	cd.body = body
	cd.nlocals = sc.n
}

func (c *compiler) block(sc *scope, b *Block) stmtFn {
	if b == nil {
		return func(*Task, *frame) ctl { return ctlNext }
	}
	var fns []stmtFn
	for _, st := range b.Stmts {
		if fn := c.stmt(sc, st); fn != nil {
			fns = append(fns, fn)
		}
	}
	switch len(fns) {
	case 0:
		return func(*Task, *frame) ctl { return ctlNext }
	case 1:
		return fns[0]
	}
	return func(t *Task, f *frame) ctl {
		for _, fn := range fns {
			if r := fn(t, f); r != ctlNext {
				return r
			}
		}
		return ctlNext
	}
}

func (c *compiler) stmt(sc *scope, st Stmt) stmtFn {
	pos := st.Position()
	switch s := st.(type) {
	case *EmptyStmt, *NullStmt:
		return nil
	case *Block:
		return c.block(sc, s)
	case *StopStmt:
		return func(t *Task, _ *frame) ctl { t.step(pos); panic(stopped{}) }
	case *ReturnStmt:
		if s.Value == nil {
			return func(t *Task, _ *frame) ctl { t.step(pos); return ctlReturn }
		}
		v := c.expr(sc, s.Value)
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			f.ret = v(t, f)
			return ctlReturn
		}
	case *VarStmt:
		var fns []stmtFn
		for _, spec := range s.Vars {
			sc.declared[spec.LName] = true
			i := sc.slot(spec.LName)
			if spec.Init == nil {
				fns = append(fns, func(_ *Task, f *frame) ctl { f.locals[i] = nil; return ctlNext })
				continue
			}
			v := c.expr(sc, spec.Init)
			fns = append(fns, func(t *Task, f *frame) ctl { f.locals[i] = v(t, f); return ctlNext })
		}
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			for _, fn := range fns {
				fn(t, f)
			}
			return ctlNext
		}
	case *AssignStmt:
		return c.assign(sc, s)
	case *CallStmt:
		e := c.call(sc, s.Call, false)
		return func(t *Task, f *frame) ctl { t.step(pos); e(t, f); return ctlNext }
	case *IfStmt:
		conds := make([]exprFn, len(s.Clauses))
		bodies := make([]stmtFn, len(s.Clauses))
		for i, cl := range s.Clauses {
			conds[i] = c.expr(sc, cl.Cond)
			bodies[i] = c.block(sc, cl.Body)
		}
		var els stmtFn
		if s.Else != nil {
			els = c.block(sc, s.Else)
		}
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			for i, cond := range conds {
				if cond(t, f) != nil {
					return bodies[i](t, f)
				}
			}
			if els != nil {
				return els(t, f)
			}
			return ctlNext
		}
	case *LoopStmt:
		body := c.block(sc, s.Body)
		return loop(pos, nil, body, nil)
	case *WhileStmt:
		return loop(pos, c.expr(sc, s.Cond), c.block(sc, s.Body), nil)
	case *ForStmt:
		var init, stepFn stmtFn
		if s.Init != nil {
			init = c.assign(sc, s.Init)
		}
		if s.Step != nil {
			stepFn = c.assign(sc, s.Step)
		}
		var cond exprFn
		if s.Cond != nil {
			cond = c.expr(sc, s.Cond)
		}
		l := loop(pos, cond, c.block(sc, s.Body), stepFn)
		return func(t *Task, f *frame) ctl {
			if init != nil {
				init(t, f)
			}
			return l(t, f)
		}
	case *ExitIfStmt:
		cond := c.expr(sc, s.Cond)
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			if cond(t, f) != nil {
				return ctlExit
			}
			return ctlNext
		}
	}
	c.errorf(pos, "unsupported statement %T", st)
	return nil
}

// loop compiles loop, while and for: cond nil loops until exitif.
func loop(pos Pos, cond exprFn, body, step stmtFn) stmtFn {
	return func(t *Task, f *frame) ctl {
		for {
			t.step(pos)
			if cond != nil && cond(t, f) == nil {
				return ctlNext
			}
			switch body(t, f) {
			case ctlExit:
				return ctlNext
			case ctlReturn:
				return ctlReturn
			}
			if step != nil {
				step(t, f)
			}
		}
	}
}

func (c *compiler) assign(sc *scope, s *AssignStmt) stmtFn {
	pos := s.Pos
	val := c.expr(sc, s.Value)
	if s.Op != TokAssign {
		// a op= b is a = a op b, with the target evaluated as a read first.
		bin := &BinaryExpr{Pos: s.OpPos, Op: s.Op.BinaryOf(), X: s.Target, Y: s.Value}
		val = c.expr(sc, bin)
	}
	switch tg := s.Target.(type) {
	case *Ident:
		if !sc.declared[tg.LName] && sc.globals[tg.LName] {
			name := tg.LName
			return func(t *Task, f *frame) ctl { t.step(pos); t.global[name] = val(t, f); return ctlNext }
		}
		i := sc.slot(tg.LName)
		return func(t *Task, f *frame) ctl { t.step(pos); f.locals[i] = val(t, f); return ctlNext }
	case *IndexExpr:
		x, idx := c.expr(sc, tg.X), c.expr(sc, tg.Index)
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			cont, i, v := x(t, f), idx(t, f), val(t, f)
			t.charge(pos, sizeOf(v))
			t.check(tg.Pos, SetIndex(cont, i, v))
			return ctlNext
		}
	case *MemberExpr:
		x, key := c.expr(sc, tg.X), tg.Name
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			cont, v := x(t, f), val(t, f)
			t.charge(pos, len(key)+sizeOf(v))
			t.check(tg.Pos, SetMember(cont, key, v))
			return ctlNext
		}
	case *KeyExpr:
		x, key := c.expr(sc, tg.X), c.expr(sc, tg.Key)
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			cont, k, v := x(t, f), key(t, f), val(t, f)
			ks, ok := k.(String)
			if !ok {
				t.fail(tg.Pos, "a dictionary key must be a string, not %s", TypeName(k))
			}
			t.charge(pos, len(ks)+sizeOf(v))
			t.check(tg.Pos, SetMember(cont, string(ks), v))
			return ctlNext
		}
	}
	c.errorf(pos, "cannot assign to this expression")
	return nil
}

// sizeOf estimates the bytes a value adds when stored.
func sizeOf(v Value) int {
	switch x := v.(type) {
	case String:
		return 16 + len(x)
	case Data:
		return 24 + len(x)
	}
	return 16
}

func (c *compiler) expr(sc *scope, e Expr) exprFn {
	pos := e.Position()
	switch x := e.(type) {
	case *NumberLit:
		v := Number(x.Value)
		return func(*Task, *frame) Value { return v }
	case *StringLit:
		v := String(x.Value)
		return func(*Task, *frame) Value { return v }
	case *NullLit:
		return func(*Task, *frame) Value { return nil }
	case *BoolLit:
		v := Bool(x.Value)
		return func(*Task, *frame) Value { return v }
	case *Ident:
		if !sc.declared[x.LName] && sc.globals[x.LName] {
			name := x.LName
			return func(t *Task, _ *frame) Value { return t.global[name] }
		}
		i := sc.slot(x.LName)
		return func(_ *Task, f *frame) Value { return f.locals[i] }
	case *UnaryExpr:
		v := c.expr(sc, x.X)
		if x.Op == TokMinus {
			return func(t *Task, f *frame) Value {
				r, err := Neg(v(t, f))
				t.check(pos, err)
				return r
			}
		}
		return func(t *Task, f *frame) Value { return Not(v(t, f)) }
	case *BinaryExpr:
		return c.binary(sc, x)
	case *CondExpr:
		cond, a, b := c.expr(sc, x.Cond), c.expr(sc, x.Then), c.expr(sc, x.Else)
		return func(t *Task, f *frame) Value {
			if cond(t, f) != nil {
				return a(t, f)
			}
			return b(t, f)
		}
	case *CallExpr, *MethodCall, *SpawnExpr:
		return c.call(sc, e, true)
	case *IndexExpr:
		v, idx := c.expr(sc, x.X), c.expr(sc, x.Index)
		return func(t *Task, f *frame) Value {
			r, err := Index(v(t, f), idx(t, f))
			t.check(pos, err)
			return r
		}
	case *MemberExpr:
		v, key := c.expr(sc, x.X), x.Name
		return func(t *Task, f *frame) Value {
			r, err := Member(v(t, f), key)
			t.check(pos, err)
			return r
		}
	case *KeyExpr:
		v, key := c.expr(sc, x.X), c.expr(sc, x.Key)
		return func(t *Task, f *frame) Value {
			d, k := v(t, f), key(t, f)
			ks, ok := k.(String)
			if !ok {
				t.fail(pos, "a dictionary key must be a string, not %s", TypeName(k))
			}
			r, err := Member(d, string(ks))
			t.check(pos, err)
			return r
		}
	}
	c.errorf(pos, "unsupported expression %T", e)
	return func(*Task, *frame) Value { return nil }
}

func (c *compiler) binary(sc *scope, x *BinaryExpr) exprFn {
	pos := x.Pos
	a, b := c.expr(sc, x.X), c.expr(sc, x.Y)
	arith := func(op func(Value, Value) (Value, error)) exprFn {
		return func(t *Task, f *frame) Value {
			r, err := op(a(t, f), b(t, f))
			t.check(pos, err)
			return r
		}
	}
	switch x.Op {
	case TokPlus:
		return func(t *Task, f *frame) Value {
			r, err := Add(a(t, f), b(t, f))
			t.check(pos, err)
			if s, ok := r.(String); ok {
				t.charge(pos, len(s))
			}
			return r
		}
	case TokMinus:
		return arith(Sub)
	case TokStar:
		return arith(Mul)
	case TokSlash:
		return arith(Div)
	case TokPercent:
		return arith(Mod)
	case TokLt:
		return arith(Less)
	case TokLe:
		return arith(LessEq)
	case TokGt:
		return arith(Greater)
	case TokGe:
		return arith(GreaterEq)
	case TokEq:
		return func(t *Task, f *frame) Value { return Equal(a(t, f), b(t, f)) }
	case TokNe:
		return func(t *Task, f *frame) Value { return NotEqual(a(t, f), b(t, f)) }
	case TokAnd: // the word forms short-circuit; the sign forms evaluate both sides
		return func(t *Task, f *frame) Value { return Bool(a(t, f) != nil && b(t, f) != nil) }
	case TokOr:
		return func(t *Task, f *frame) Value { return Bool(a(t, f) != nil || b(t, f) != nil) }
	case TokAmp:
		return func(t *Task, f *frame) Value { l, r := a(t, f), b(t, f); return And(l, r) }
	case TokPipe:
		return func(t *Task, f *frame) Value { l, r := a(t, f), b(t, f); return Or(l, r) }
	case TokXor, TokCaret:
		return func(t *Task, f *frame) Value { l, r := a(t, f), b(t, f); return Xor(l, r) }
	}
	c.errorf(pos, "unsupported operator %s", x.Op)
	return func(*Task, *frame) Value { return nil }
}

// call compiles a call of a program section or a built-in. Method calls
// x.f(args) are f(x, args).
func (c *compiler) call(sc *scope, e Expr, wantValue bool) exprFn {
	var name string
	var pos Pos
	var argExprs []Expr
	switch x := e.(type) {
	case *CallExpr:
		name, pos, argExprs = x.LName, x.Pos, x.Args
		if x.LModule != "" {
			name = x.LModule + "::" + x.LName
		}
	case *MethodCall:
		name, pos = x.LName, x.Pos
		argExprs = append([]Expr{x.Recv}, x.Args...)
	case *SpawnExpr:
		c.errorf(x.Pos, "spawn is not supported yet")
		return func(*Task, *frame) Value { return nil }
	}
	args := make([]exprFn, len(argExprs))
	for i, a := range argExprs {
		args[i] = c.expr(sc, a)
	}
	eval := func(t *Task, f *frame) []Value {
		vs := make([]Value, len(args))
		for i, a := range args {
			vs[i] = a(t, f)
		}
		return vs
	}
	if cd, ok := c.mod.sections[name]; ok {
		if cd.kind == EntrySection {
			c.errorf(pos, "%s is an entry; entries are started, not called", cd.name)
		}
		return func(t *Task, f *frame) Value { return cd.call(t, eval(t, f), pos) }
	}
	if fn, ok := c.reg.Lookup(name); ok {
		return func(t *Task, f *frame) Value {
			r, err := fn.Fn(t, eval(t, f))
			t.check(pos, err)
			return r
		}
	}
	c.errorf(pos, "unknown procedure or function %s", strings.TrimPrefix(name, "::"))
	return func(*Task, *frame) Value { return nil }
}

package cgpl

import (
	"fmt"
	"strings"
)

// Module is a compiled program, ready to run as any number of tasks.
// Statements and expressions are compiled to Go closures once, so a task
// does not walk the syntax tree as it runs.
//
// How the closures are kept fast (see docs/benchmarks.md for the numbers):
//   - a call's locals are a window of the task's value stack and its frame
//     is reused by depth, so calling a section allocates nothing; the
//     arguments are evaluated straight into the callee's parameter slots,
//     and a built-in's arguments into a window of the same stack;
//   - numbers, comparisons, conditions, element access and assignments
//     have fast paths for the common types before falling back to the
//     generic operators of ops.go, which give the same results and raise
//     the same exceptions;
//   - a number result is boxed without a heap allocation of its own (see
//     Task.num);
//   - a string that a loop grows by appending to the same variable
//     ("s += x" or "s = s + x") is grown in place in a buffer with spare
//     room (see Task.appendString), so the loop costs linear, not quadratic,
//     time and memory;
//   - the instruction budget costs an increment and a compare per statement
//     (see Task.step).
type Module struct {
	file     string
	prog     *Program
	sections map[string]*code
	globals  []globalVar // in the order they are initialised
	nglobals int         // task variables (a name declared twice is one variable)
	links    *linkSet    // the modules it calls, when an Environment linked it
}

type globalVar struct {
	slot    int // index in Task.global
	init    exprFn
	nlocals int // slots the initialiser's scope uses
}

// frame holds one call's local variables (a window of the task's value
// stack) and the value it returns. Frames are reused by call depth.
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
	condFn func(t *Task, f *frame) bool // an expression used as a truth value
)

// code is a compiled section.
type code struct {
	name    string
	kind    SectionKind
	nparams int
	nlocals int
	body    stmtFn
	// ext marks an external declaration: the section lives in module
	// moduleName ("" when the declaration names none), where its
	// lower-case name is local. (After the fields a call reads, which
	// stay in one cache line.)
	ext        bool
	moduleName string
	local      string
	pos        Pos
}

// invoke runs the section with its locals already in place (the arguments
// in the first slots, the rest null); the caller owns the window and clears
// it afterwards.
// window reserves n slots on top of the task's value stack; the caller
// clears them and resets t.sp to base when done.
func (t *Task) window(n int) (base int, vs []Value) {
	base = t.sp
	top := base + n
	if top > len(t.stack) {
		t.growStack(top)
	}
	t.sp = top
	return base, t.stack[base:top:top]
}

// invokeWith runs cd in a fresh window of n slots of the task's value
// stack, its parameters evaluated by args straight into the window.
func (t *Task) invokeWith(cd *code, n int, args []exprFn, f *frame, pos Pos) Value {
	base, locals := t.window(n)
	for i, a := range args {
		locals[i] = a(t, f)
	}
	r := cd.invoke(t, locals, pos)
	clearValues(locals)
	t.sp = base
	return r
}

func (c *code) invoke(t *Task, locals []Value, pos Pos) Value {
	if c.body == nil {
		t.fail(pos, "%s is declared but not defined", c.name)
	}
	t.depth++
	if t.depth > t.opts.Limits.MaxDepth {
		t.fail(pos, "calls nested deeper than %d (runaway recursion?)", t.opts.Limits.MaxDepth)
	}
	f := t.frameAt(t.depth)
	f.locals = locals
	c.body(t, f)
	r := f.ret
	f.ret, f.locals = nil, nil
	t.depth--
	return r
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
	c := &compiler{reg: reg, prog: prog, mod: &Module{file: filename, prog: prog, sections: map[string]*code{}},
		globalSlot: map[string]int{}}
	for _, v := range prog.Vars {
		for _, spec := range v.Vars {
			if _, ok := c.globalSlot[spec.LName]; !ok {
				c.globalSlot[spec.LName] = len(c.globalNames)
				c.globalNames = append(c.globalNames, spec.LName)
			}
		}
	}
	for _, s := range prog.Sections {
		key := s.Key()
		if _, ok := c.mod.sections[key]; !ok {
			c.mod.sections[key] = &code{name: s.QualName(), pos: s.Pos, kind: s.Kind, nparams: len(s.Params),
				ext: s.External, moduleName: s.Module, local: s.LName}
		}
	}
	for _, v := range prog.Vars {
		for _, spec := range v.Vars {
			g := globalVar{slot: c.globalSlot[spec.LName]}
			if spec.Init != nil {
				// An initialiser sees the task variables declared before it.
				sc := &scope{slots: map[string]int{}, declared: map[string]bool{}, globals: map[string]bool{}}
				for _, prev := range c.mod.globals {
					sc.globals[c.globalNames[prev.slot]] = true
				}
				g.init = c.expr(sc, spec.Init)
				g.nlocals = sc.n
			}
			c.mod.globals = append(c.mod.globals, g)
		}
	}
	c.mod.nglobals = len(c.globalNames)
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
	globalNames []string       // task variables, in slot order
	globalSlot  map[string]int // task variable name -> index in Task.global
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

// global reports the task-variable slot an identifier names in sc, if any.
func (c *compiler) global(sc *scope, name string) (int, bool) {
	if sc.declared[name] || !sc.globals[name] {
		return 0, false
	}
	return c.globalSlot[name], true
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
	case 2:
		s0, s1 := fns[0], fns[1]
		return func(t *Task, f *frame) ctl {
			if r := s0(t, f); r != ctlNext {
				return r
			}
			return s1(t, f)
		}
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
		conds := make([]condFn, len(s.Clauses))
		bodies := make([]stmtFn, len(s.Clauses))
		for i, cl := range s.Clauses {
			conds[i] = c.cond(sc, cl.Cond)
			bodies[i] = c.block(sc, cl.Body)
		}
		var els stmtFn
		if s.Else != nil {
			els = c.block(sc, s.Else)
		}
		if len(conds) == 1 {
			cond, body := conds[0], bodies[0]
			if els == nil {
				return func(t *Task, f *frame) ctl {
					t.step(pos)
					if cond(t, f) {
						return body(t, f)
					}
					return ctlNext
				}
			}
			return func(t *Task, f *frame) ctl {
				t.step(pos)
				if cond(t, f) {
					return body(t, f)
				}
				return els(t, f)
			}
		}
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			for i, cond := range conds {
				if cond(t, f) {
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
		return loop(pos, c.cond(sc, s.Cond), c.block(sc, s.Body), nil)
	case *ForStmt:
		var init, stepFn stmtFn
		if s.Init != nil {
			init = c.assign(sc, s.Init)
		}
		if s.Step != nil {
			stepFn = c.assign(sc, s.Step)
		}
		var cond condFn
		if s.Cond != nil {
			cond = c.cond(sc, s.Cond)
		}
		l := loop(pos, cond, c.block(sc, s.Body), stepFn)
		return func(t *Task, f *frame) ctl {
			if init != nil {
				init(t, f)
			}
			return l(t, f)
		}
	case *ExitIfStmt:
		cond := c.cond(sc, s.Cond)
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			if cond(t, f) {
				return ctlExit
			}
			return ctlNext
		}
	}
	c.errorf(pos, "unsupported statement %T", st)
	return nil
}

// loop compiles loop, while and for: cond nil loops until exitif.
func loop(pos Pos, cond condFn, body, step stmtFn) stmtFn {
	if cond != nil && step == nil {
		return func(t *Task, f *frame) ctl {
			for {
				t.step(pos)
				if !cond(t, f) {
					return ctlNext
				}
				switch body(t, f) {
				case ctlExit:
					return ctlNext
				case ctlReturn:
					return ctlReturn
				}
			}
		}
	}
	return func(t *Task, f *frame) ctl {
		for {
			t.step(pos)
			if cond != nil && !cond(t, f) {
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

// sameVar reports whether e reads the variable that target names: the
// "s = s + x" form of an append.
func sameVar(target, e Expr) bool {
	a, ok1 := target.(*Ident)
	b, ok2 := e.(*Ident)
	return ok1 && ok2 && a.LName == b.LName
}

// compoundOps are the operators of compound assignments on elements.
var compoundOps = map[TokenKind]func(a, b Value) (Value, error){
	TokPlus: Add, TokMinus: Sub, TokStar: Mul, TokSlash: Div, TokPercent: Mod,
	TokAmp:   func(a, b Value) (Value, error) { return And(a, b), nil },
	TokPipe:  func(a, b Value) (Value, error) { return Or(a, b), nil },
	TokCaret: func(a, b Value) (Value, error) { return Xor(a, b), nil },
}

// compoundElement compiles "x[i] op= v", "d.k op= v" and "d.(k) op= v":
// the container and the index or key are evaluated once, then the element
// is read, combined with v and written back.
func (c *compiler) compoundElement(sc *scope, s *AssignStmt) stmtFn {
	pos, opPos := s.Pos, s.OpPos
	op, ok := compoundOps[s.Op.BinaryOf()]
	if !ok {
		c.errorf(opPos, "unsupported compound assignment %s", s.Op)
		return nil
	}
	rhs := c.expr(sc, s.Value)
	var cont, key exprFn
	var tpos Pos
	var member string
	switch tg := s.Target.(type) {
	case *IndexExpr:
		cont, key, tpos = c.expr(sc, tg.X), c.expr(sc, tg.Index), tg.Pos
	case *KeyExpr:
		cont, key, tpos = c.expr(sc, tg.X), c.expr(sc, tg.Key), tg.Pos
	case *MemberExpr:
		cont, member, tpos = c.expr(sc, tg.X), tg.Name, tg.Pos
	}
	_, isIndex := s.Target.(*IndexExpr)
	return func(t *Task, f *frame) ctl {
		t.step(pos)
		x := cont(t, f)
		var cur Value
		var err error
		k := member
		switch {
		case isIndex:
			idx := key(t, f)
			cur, err = Index(x, idx)
			t.check(tpos, err)
			v, err := op(cur, rhs(t, f))
			t.check(opPos, err)
			t.charge(pos, sizeOf(v))
			t.check(tpos, SetIndex(x, idx, v))
			return ctlNext
		case key != nil:
			kv := key(t, f)
			ks, ok := kv.(String)
			if !ok {
				t.fail(tpos, "a dictionary key must be a string, not %s", TypeName(kv))
			}
			k = string(ks)
		}
		cur, err = Member(x, k)
		t.check(tpos, err)
		v, err := op(cur, rhs(t, f))
		t.check(opPos, err)
		t.charge(pos, len(k)+sizeOf(v))
		t.check(tpos, SetMember(x, k, v))
		return ctlNext
	}
}

func (c *compiler) assign(sc *scope, s *AssignStmt) stmtFn {
	pos := s.Pos
	if s.Op != TokAssign {
		switch s.Target.(type) {
		case *IndexExpr, *MemberExpr, *KeyExpr:
			return c.compoundElement(sc, s)
		}
	}
	var val exprFn
	switch {
	case s.Op != TokAssign:
		// a op= b is a = a op b, with the target evaluated as a read first.
		bin := &BinaryExpr{Pos: s.OpPos, Op: s.Op.BinaryOf(), X: s.Target, Y: s.Value}
		val = c.binary(sc, bin, true)
	default:
		if bin, ok := s.Value.(*BinaryExpr); ok && bin.Op == TokPlus && sameVar(s.Target, bin.X) {
			val = c.binary(sc, bin, true) // s = s + x appends, as s += x does
		} else {
			val = c.expr(sc, s.Value)
		}
	}
	switch tg := s.Target.(type) {
	case *Ident:
		if g, ok := c.global(sc, tg.LName); ok {
			return func(t *Task, f *frame) ctl { t.step(pos); t.global[g] = val(t, f); return ctlNext }
		}
		i := sc.slot(tg.LName)
		return func(t *Task, f *frame) ctl { t.step(pos); f.locals[i] = val(t, f); return ctlNext }
	case *IndexExpr:
		x, idx := c.expr(sc, tg.X), c.expr(sc, tg.Index)
		tpos := tg.Pos
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			cont, i, v := x(t, f), idx(t, f), val(t, f)
			t.charge(pos, sizeOf(v))
			// Fast path: an array element by number, as SetIndex does it.
			if a, ok := cont.(*Array); ok {
				if n, ok := i.(Number); ok {
					switch {
					case n >= 0 && int64(n) < int64(len(a.Elems)):
						a.Elems[n] = v
						return ctlNext
					case int64(n) == int64(len(a.Elems)):
						a.Elems = append(a.Elems, v)
						return ctlNext
					}
				}
			}
			if err := SetIndex(cont, i, v); err != nil {
				t.check(tpos, err)
			}
			return ctlNext
		}
	case *MemberExpr:
		x, key := c.expr(sc, tg.X), tg.Name
		tpos := tg.Pos
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			cont, v := x(t, f), val(t, f)
			t.charge(pos, len(key)+sizeOf(v))
			if d, ok := cont.(*Dict); ok {
				d.Set(key, v)
				return ctlNext
			}
			t.check(tpos, SetMember(cont, key, v))
			return ctlNext
		}
	case *KeyExpr:
		x, key := c.expr(sc, tg.X), c.expr(sc, tg.Key)
		tpos := tg.Pos
		return func(t *Task, f *frame) ctl {
			t.step(pos)
			cont, k, v := x(t, f), key(t, f), val(t, f)
			ks, ok := k.(String)
			if !ok {
				t.fail(tpos, "a dictionary key must be a string, not %s", TypeName(k))
			}
			t.charge(pos, len(ks)+sizeOf(v))
			if d, ok := cont.(*Dict); ok {
				d.Set(string(ks), v)
				return ctlNext
			}
			t.check(tpos, SetMember(cont, string(ks), v))
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

// numConst reports the value of a number literal, or of a negated one.
func numConst(e Expr) (Number, bool) {
	switch x := e.(type) {
	case *NumberLit:
		return Number(x.Value), true
	case *UnaryExpr:
		if x.Op == TokMinus {
			if n, ok := numConst(x.X); ok {
				return -n, true
			}
		}
	}
	return 0, false
}

func (c *compiler) expr(sc *scope, e Expr) exprFn {
	pos := e.Position()
	if n, ok := numConst(e); ok {
		v := Value(n)
		return func(*Task, *frame) Value { return v }
	}
	switch x := e.(type) {
	case *StringLit:
		v := Value(String(x.Value))
		return func(*Task, *frame) Value { return v }
	case *NullLit:
		return func(*Task, *frame) Value { return nil }
	case *BoolLit:
		v := Bool(x.Value)
		return func(*Task, *frame) Value { return v }
	case *Ident:
		if g, ok := c.global(sc, x.LName); ok {
			return func(t *Task, _ *frame) Value { return t.global[g] }
		}
		i := sc.slot(x.LName)
		return func(_ *Task, f *frame) Value { return f.locals[i] }
	case *UnaryExpr:
		if x.Op == TokMinus {
			v := c.expr(sc, x.X)
			return func(t *Task, f *frame) Value {
				a := v(t, f)
				if n, ok := a.(Number); ok {
					return t.num(-n)
				}
				r, err := Neg(a)
				t.check(pos, err)
				return r
			}
		}
		cond := c.cond(sc, x.X)
		return func(t *Task, f *frame) Value { return Bool(!cond(t, f)) }
	case *BinaryExpr:
		return c.binary(sc, x, false)
	case *CondExpr:
		cond, a, b := c.cond(sc, x.Cond), c.expr(sc, x.Then), c.expr(sc, x.Else)
		return func(t *Task, f *frame) Value {
			if cond(t, f) {
				return a(t, f)
			}
			return b(t, f)
		}
	case *CallExpr, *MethodCall, *SpawnExpr:
		return c.call(sc, e, true)
	case *IndexExpr:
		v, idx := c.expr(sc, x.X), c.expr(sc, x.Index)
		return func(t *Task, f *frame) Value {
			cont, i := v(t, f), idx(t, f)
			// Fast path: an array element by number, as Index does it.
			if a, ok := cont.(*Array); ok {
				if n, ok := i.(Number); ok {
					if n < 0 || int64(n) >= int64(len(a.Elems)) {
						return nil
					}
					return a.Elems[n]
				}
			}
			r, err := Index(cont, i)
			if err != nil {
				t.check(pos, err)
			}
			return r
		}
	case *MemberExpr:
		v, key := c.expr(sc, x.X), x.Name
		return func(t *Task, f *frame) Value {
			d := v(t, f)
			if dd, ok := d.(*Dict); ok {
				return dd.Get(key)
			}
			r, err := Member(d, key)
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
			if dd, ok := d.(*Dict); ok {
				return dd.Get(string(ks))
			}
			r, err := Member(d, string(ks))
			t.check(pos, err)
			return r
		}
	}
	c.errorf(pos, "unsupported expression %T", e)
	return func(*Task, *frame) Value { return nil }
}

// localSlot is the frame slot of e when it reads a local variable, else -1.
func (c *compiler) localSlot(sc *scope, e Expr) int {
	if id, ok := e.(*Ident); ok {
		if _, g := c.global(sc, id.LName); !g {
			return sc.slot(id.LName)
		}
	}
	return -1
}

// load evaluates an operand: a local variable's slot read directly (saving
// a closure call on the hottest operands, n < 2, i + 1), else its closure.
func load(t *Task, f *frame, slot int, a exprFn) Value {
	if slot >= 0 {
		return f.locals[slot]
	}
	return a(t, f)
}

// cond compiles an expression used as a truth value (if, while, exitif,
// ?:, not, and, or), without making a "YES" or null of comparisons.
func (c *compiler) cond(sc *scope, e Expr) condFn {
	switch x := e.(type) {
	case *BinaryExpr:
		switch x.Op {
		case TokLt, TokLe, TokGt, TokGe, TokEq, TokNe:
			return c.compare(sc, x)
		case TokAnd: // the word forms short-circuit
			a, b := c.cond(sc, x.X), c.cond(sc, x.Y)
			return func(t *Task, f *frame) bool { return a(t, f) && b(t, f) }
		case TokOr:
			a, b := c.cond(sc, x.X), c.cond(sc, x.Y)
			return func(t *Task, f *frame) bool { return a(t, f) || b(t, f) }
		}
	case *UnaryExpr:
		if x.Op != TokMinus {
			a := c.cond(sc, x.X)
			return func(t *Task, f *frame) bool { return !a(t, f) }
		}
	case *BoolLit:
		v := x.Value
		return func(*Task, *frame) bool { return v }
	}
	v := c.expr(sc, e)
	return func(t *Task, f *frame) bool { return v(t, f) != nil }
}

// compareAt is Compare raising at pos.
func (t *Task) compareAt(pos Pos, a, b Value) int {
	r, err := Compare(a, b)
	if err != nil {
		t.check(pos, err)
	}
	return r
}

// compare compiles a comparison to a truth value: numbers (and strings for
// == and !=) directly, anything else through Compare / Equals as the
// operators of ops.go do.
func (c *compiler) compare(sc *scope, x *BinaryExpr) condFn {
	pos := x.Pos
	a := c.expr(sc, x.X)
	if k, ok := numConst(x.Y); ok {
		kv := Value(k)
		slot := c.localSlot(sc, x.X)
		switch x.Op {
		case TokLt:
			return func(t *Task, f *frame) bool {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return n < k
				}
				return t.compareAt(pos, l, kv) < 0
			}
		case TokLe:
			return func(t *Task, f *frame) bool {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return n <= k
				}
				return t.compareAt(pos, l, kv) <= 0
			}
		case TokGt:
			return func(t *Task, f *frame) bool {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return n > k
				}
				return t.compareAt(pos, l, kv) > 0
			}
		case TokGe:
			return func(t *Task, f *frame) bool {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return n >= k
				}
				return t.compareAt(pos, l, kv) >= 0
			}
		case TokEq:
			return func(t *Task, f *frame) bool {
				n, ok := load(t, f, slot, a).(Number)
				return ok && n == k
			}
		case TokNe:
			return func(t *Task, f *frame) bool {
				n, ok := load(t, f, slot, a).(Number)
				return !ok || n != k
			}
		}
	}
	b := c.expr(sc, x.Y)
	switch x.Op {
	case TokLt:
		return func(t *Task, f *frame) bool {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok {
					return n < m
				}
			}
			return t.compareAt(pos, l, r) < 0
		}
	case TokLe:
		return func(t *Task, f *frame) bool {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok {
					return n <= m
				}
			}
			return t.compareAt(pos, l, r) <= 0
		}
	case TokGt:
		return func(t *Task, f *frame) bool {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok {
					return n > m
				}
			}
			return t.compareAt(pos, l, r) > 0
		}
	case TokGe:
		return func(t *Task, f *frame) bool {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok {
					return n >= m
				}
			}
			return t.compareAt(pos, l, r) >= 0
		}
	case TokEq:
		return func(t *Task, f *frame) bool { return valuesEqual(a(t, f), b(t, f)) }
	case TokNe:
		return func(t *Task, f *frame) bool { return !valuesEqual(a(t, f), b(t, f)) }
	}
	panic("cgpl: compare of " + x.Op.String())
}

// valuesEqual is Equals with the number and string cases first.
func valuesEqual(l, r Value) bool {
	switch x := l.(type) {
	case Number:
		y, ok := r.(Number)
		return ok && x == y
	case String:
		y, ok := r.(String)
		return ok && x == y
	}
	return Equals(l, r)
}

// binary compiles x op y. appendTo is set when the result is assigned back
// to the variable that x reads (s += y, s = s + y): a string then grows in
// place (Task.appendString).
func (c *compiler) binary(sc *scope, x *BinaryExpr, appendTo bool) exprFn {
	pos := x.Pos
	switch x.Op {
	case TokLt, TokLe, TokGt, TokGe, TokEq, TokNe, TokAnd, TokOr:
		cond := c.cond(sc, x)
		return func(t *Task, f *frame) Value { return Bool(cond(t, f)) }
	}
	a := c.expr(sc, x.X)
	if k, ok := numConst(x.Y); ok {
		kv := Value(k)
		slot := c.localSlot(sc, x.X)
		switch x.Op {
		case TokPlus:
			return func(t *Task, f *frame) Value {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return t.num(n + k)
				}
				return t.add(pos, l, kv)
			}
		case TokMinus:
			return func(t *Task, f *frame) Value {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return t.num(n - k)
				}
				return t.arith(pos, Sub, l, kv)
			}
		case TokStar:
			return func(t *Task, f *frame) Value {
				l := load(t, f, slot, a)
				if n, ok := l.(Number); ok {
					return t.num(n * k)
				}
				return t.arith(pos, Mul, l, kv)
			}
		case TokSlash:
			if k != 0 {
				return func(t *Task, f *frame) Value {
					l := load(t, f, slot, a)
					if n, ok := l.(Number); ok {
						return t.num(n / k)
					}
					return t.arith(pos, Div, l, kv)
				}
			}
		case TokPercent:
			if k != 0 {
				return func(t *Task, f *frame) Value {
					l := load(t, f, slot, a)
					if n, ok := l.(Number); ok {
						return t.num(n % k)
					}
					return t.arith(pos, Mod, l, kv)
				}
			}
		}
	}
	b := c.expr(sc, x.Y)
	switch x.Op {
	case TokPlus:
		if appendTo {
			return func(t *Task, f *frame) Value {
				l, r := a(t, f), b(t, f)
				switch x := l.(type) {
				case Number:
					if y, ok := r.(Number); ok {
						return t.num(x + y)
					}
				case String:
					if y, ok := r.(String); ok {
						return t.appendString(pos, x, y)
					}
				}
				return t.add(pos, l, r)
			}
		}
		return func(t *Task, f *frame) Value {
			l, r := a(t, f), b(t, f)
			switch x := l.(type) {
			case Number:
				if y, ok := r.(Number); ok {
					return t.num(x + y)
				}
			case String:
				if y, ok := r.(String); ok {
					t.charge(pos, len(x)+len(y))
					return x + y
				}
			}
			return t.add(pos, l, r)
		}
	case TokMinus:
		return func(t *Task, f *frame) Value {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok {
					return t.num(n - m)
				}
			}
			return t.arith(pos, Sub, l, r)
		}
	case TokStar:
		return func(t *Task, f *frame) Value {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok {
					return t.num(n * m)
				}
			}
			return t.arith(pos, Mul, l, r)
		}
	case TokSlash:
		return func(t *Task, f *frame) Value {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok && m != 0 {
					return t.num(n / m)
				}
			}
			return t.arith(pos, Div, l, r)
		}
	case TokPercent:
		return func(t *Task, f *frame) Value {
			l, r := a(t, f), b(t, f)
			if n, ok := l.(Number); ok {
				if m, ok := r.(Number); ok && m != 0 {
					return t.num(n % m)
				}
			}
			return t.arith(pos, Mod, l, r)
		}
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

// clearValues sets vs to null: cheaper than clear (a runtime call with a
// bulk write barrier) for the few slots of a call.
func clearValues(vs []Value) {
	for i := 0; i < len(vs); i++ {
		vs[i] = nil
	}
}

// add is the generic a + b, charging a string result to the memory limit.
func (t *Task) add(pos Pos, a, b Value) Value {
	r, err := Add(a, b)
	if err != nil {
		t.check(pos, err)
	}
	if s, ok := r.(String); ok {
		t.charge(pos, len(s))
	}
	return r
}

// arith applies a generic operator, raising its error at pos.
func (t *Task) arith(pos Pos, op func(Value, Value) (Value, error), a, b Value) Value {
	r, err := op(a, b)
	if err != nil {
		t.check(pos, err)
	}
	return r
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
		return c.spawn(sc, x)
	}
	args := make([]exprFn, len(argExprs))
	for i, a := range argExprs {
		args[i] = c.expr(sc, a)
	}
	nargs := len(args)
	if cd, ok := c.mod.sections[name]; ok {
		if cd.kind == EntrySection {
			c.errorf(pos, "%s is an entry; entries are started, not called", cd.name)
		}
		if cd.ext {
			return c.externalCall(cd, pos, args)
		}
		return func(t *Task, f *frame) Value {
			// The callee's locals are a window of the task's stack; the
			// arguments are evaluated straight into its parameter slots
			// (calls made while evaluating them use the stack above).
			n := cd.nlocals
			if n < nargs {
				n = nargs // an undefined section: invoke raises
			}
			return t.invokeWith(cd, n, args, f, pos)
		}
	}
	fn, ok := c.reg.Lookup(name)
	if !ok {
		c.errorf(pos, "unknown procedure or function %s", strings.TrimPrefix(name, "::"))
		return func(*Task, *frame) Value { return nil }
	}
	if wantValue && fn.Procedure {
		c.errorf(pos, "%s is a procedure: it gives no value to use", fn.Name)
	}
	if fn.byName != 0 && nargs > 0 {
		return callByName(pos, fn.byName == byNameProc, args)
	}
	pure, host := fn.pure, fn.Fn
	if nargs == 0 {
		return func(t *Task, f *frame) Value {
			var r Value
			var err error
			if pure != nil {
				r, err = pure(nil)
			} else {
				r, err = host(t, nil)
			}
			if err != nil {
				t.check(pos, err)
			}
			return r
		}
	}
	return func(t *Task, f *frame) Value {
		// The arguments go to a window of the task's stack, cleared after
		// the call: a built-in must not keep its args slice (see Func).
		base, vs := t.window(nargs)
		for i, a := range args {
			vs[i] = a(t, f)
		}
		var r Value
		var err error
		if pure != nil {
			r, err = pure(vs)
		} else {
			r, err = host(t, vs)
		}
		clearValues(vs)
		t.sp = base
		if err != nil {
			t.check(pos, err)
		}
		return r
	}
}

// spawn compiles "spawn Entry [(arg)]": the argument is evaluated and
// copied (the tasks share nothing mutable), then the entry starts in a new
// task (see Task.spawn) whose handle is the value. Check has already
// reported a target that is not an entry and extra arguments; the compiler
// checks again, since the name is static.
func (c *compiler) spawn(sc *scope, x *SpawnExpr) exprFn {
	cd, ok := c.mod.sections[x.LName]
	switch {
	case !ok:
		c.errorf(x.NamePos, "spawn of unknown entry %s", x.Name)
		return func(*Task, *frame) Value { return nil }
	case cd.kind != EntrySection:
		c.errorf(x.NamePos, "spawn needs an entry; %s is %s %s", cd.name, article(cd.kind), cd.kind)
		return func(*Task, *frame) Value { return nil }
	case len(x.Args) > 1:
		c.errorf(x.NamePos, "spawn passes at most one parameter, got %d", len(x.Args))
		return func(*Task, *frame) Value { return nil }
	}
	var arg exprFn
	if len(x.Args) == 1 {
		arg = c.expr(sc, x.Args[0])
	}
	pos, entry := x.Pos, x.LName
	return func(t *Task, f *frame) Value {
		var p Value
		if arg != nil {
			p = CopyValue(arg(t, f))
		}
		return t.spawn(pos, cd, entry, p)
	}
}

// callByName compiles ProcCall(name, args...) and FuncCall(name, args...):
// the section is looked up by name when the call runs, then called as an
// ordinary call is (the same window of the stack, depth limit and budget),
// the arguments evaluated straight into its parameter slots.
func callByName(pos Pos, proc bool, args []exprFn) exprFn {
	name, rest := args[0], args[1:]
	nargs := len(rest)
	return func(t *Task, f *frame) Value {
		m, cd, err := t.sectionByName(proc, name(t, f), nargs)
		if err != nil {
			t.check(pos, err)
		}
		var r Value
		if m == t.mod {
			r = t.invokeWith(cd, max(cd.nlocals, nargs), rest, f, pos)
		} else {
			r = t.invokeIn(m, cd, max(cd.nlocals, nargs), rest, f, pos)
		}
		if proc {
			return nil
		}
		return r
	}
}

// sectionByName finds the section that ProcCall (proc) or FuncCall names
// ("name" in the running module, "M::name" in module M) and checks that it
// is of the right kind and takes nargs arguments.
func (t *Task) sectionByName(proc bool, v Value, nargs int) (*Module, *code, error) {
	fname, want := "FuncCall", FunctionSection
	if proc {
		fname, want = "ProcCall", ProcedureSection
	}
	s, ok := v.(String)
	if !ok {
		return nil, nil, Throw("%s: the section name must be a string, not %s", fname, TypeName(v))
	}
	m := t.mod
	var cd *code
	mname, name, qualified := strings.Cut(string(s), "::")
	if qualified {
		if !isModuleName(mname) || name == "" {
			return nil, nil, Throw("%s: %q is not a section name", fname, string(s))
		}
		var err error
		m, cd, err = t.moduleSection(mname, strings.ToLower(name))
		if err != nil {
			if ctxErr := t.ctx.Err(); ctxErr != nil {
				return nil, nil, ctxErr
			}
			return nil, nil, Throw("%s: %v", fname, err)
		}
	} else {
		cd = t.mod.sections[strings.ToLower(string(s))]
		if cd != nil && cd.ext {
			cd = nil // declared here, defined in its module: call it as M::name
		}
	}
	if cd == nil {
		return nil, nil, Throw("%s: this program has no %s %s", fname, want, string(s))
	}
	display := cd.name
	if qualified {
		display = mname + "::" + cd.name
	}
	switch {
	case cd.kind != want:
		return nil, nil, Throw("%s: %s is %s %s, not %s %s", fname, display, article(cd.kind), cd.kind, article(want), want)
	case cd.nparams != nargs:
		return nil, nil, Throw("%s: %s %s takes %s, got %d", fname, cd.kind, display, synPlural(cd.nparams, "argument"), nargs)
	}
	return m, cd, nil
}

func article(k SectionKind) string {
	if k == EntrySection {
		return "an"
	}
	return "a"
}

// callByNameFn is ProcCall's or FuncCall's Func.Fn, for a host that calls
// the built-in from Go (a program's calls are compiled by callByName). The
// arguments are copied into a fresh window of the stack above args, so the
// callee's calls cannot overwrite them.
func callByNameFn(proc bool) func(t *Task, args []Value) (Value, error) {
	return func(t *Task, args []Value) (Value, error) {
		if len(args) == 0 {
			return nil, Throw("the section name is missing")
		}
		m, cd, err := t.sectionByName(proc, args[0], len(args)-1)
		if err != nil {
			return nil, err
		}
		base, locals := t.window(max(cd.nlocals, len(args)-1))
		copy(locals, args[1:])
		r := t.runIn(m, cd, locals, Pos{})
		clearValues(locals)
		t.sp = base
		if proc {
			return nil, nil
		}
		return r, nil
	}
}

package cgpl

import (
	"strconv"
	"strings"
)

// Syntax is the style a code section is written in.
type Syntax uint8

const (
	// SyntaxBasic is "entry Main is ... end;" with "if ... then ... end if;".
	SyntaxBasic Syntax = iota
	// SyntaxC is "entry Main { ... }" with "if cond { ... }".
	SyntaxC
)

func (s Syntax) String() string {
	if s == SyntaxC {
		return "C-style"
	}
	return "Basic"
}

// Node is any node of the syntax tree.
type Node interface {
	// Position is where the node is in the source; see each type for which
	// token that is.
	Position() Pos
}

// Expr is an expression node.
type Expr interface {
	Node
	exprNode()
}

// Stmt is a statement node.
type Stmt interface {
	Node
	stmtNode()
}

// ---------------------------------------------------------------------------
// Program and sections

// Program is one source file: its code sections and declarations in source
// order, and its task-level variables.
type Program struct {
	File string
	// Sections holds every entry, procedure and function, and every forward
	// and external declaration, in source order. Declarations have a nil Body.
	Sections []*Section
	// Vars are the task-level "var" declarations (outside any section).
	Vars []*VarStmt

	index map[string]*Section
}

// Position is the start of the file.
func (p *Program) Position() Pos { return Pos{File: p.File, Line: 1, Col: 1} }

// Lookup finds a section by name ("f" or "module::f", any case). It returns
// the definition (the section with a body) when there is one, otherwise the
// first declaration, or nil. With duplicate definitions (an error Check
// reports) the first one wins.
func (p *Program) Lookup(name string) *Section {
	if p.index == nil {
		p.buildIndex()
	}
	return p.index[strings.ToLower(name)]
}

func (p *Program) buildIndex() {
	p.index = make(map[string]*Section, len(p.Sections))
	for _, s := range p.Sections {
		k := s.Key()
		if old, ok := p.index[k]; !ok || (old.Body == nil && s.Body != nil) {
			p.index[k] = s
		}
	}
}

// SectionKind says whether a section is an entry, a procedure or a function.
type SectionKind uint8

// Section kinds.
const (
	EntrySection SectionKind = iota
	ProcedureSection
	FunctionSection
)

func (k SectionKind) String() string {
	switch k {
	case ProcedureSection:
		return "procedure"
	case FunctionSection:
		return "function"
	}
	return "entry"
}

// Section is a code section (entry, procedure or function) or, when Body
// is nil, a forward or external declaration of one.
type Section struct {
	Pos  Pos // of the keyword entry/procedure/function
	Kind SectionKind
	// Module is the qualifier of "M::f" as written ("" if none); LModule is
	// its lower-cased form. Only external declarations have one.
	Module, LModule string
	// Name as written, and lower-cased for lookup.
	Name, LName string
	NamePos     Pos
	Params      []*Param // always empty for an entry
	// Body is nil for a declaration.
	Body              *Block
	Forward, External bool
	Syntax            Syntax // of the body (SyntaxBasic for a declaration)
	// End is the position of the closing "end" or "}" (zero for a declaration).
	End Pos
}

// Position is the position of the section keyword.
func (s *Section) Position() Pos { return s.Pos }

// Key is the lower-cased qualified name used by Program.Lookup.
func (s *Section) Key() string {
	if s.LModule != "" {
		return s.LModule + "::" + s.LName
	}
	return s.LName
}

// QualName is the name as written, with its module qualifier if any.
func (s *Section) QualName() string {
	if s.Module != "" {
		return s.Module + "::" + s.Name
	}
	return s.Name
}

// Param is one formal parameter.
type Param struct {
	Pos         Pos
	Name, LName string
}

// Position is the parameter name's position.
func (p *Param) Position() Pos { return p.Pos }

// ---------------------------------------------------------------------------
// Statements

// Block is a sequence of statements: a section body, the body of an if
// clause or loop, or a nested "{ ... }" block statement (C-style syntax).
type Block struct {
	Pos   Pos // of the token that opens it ("is", "then", "loop", "else", "{")
	Stmts []Stmt
	End   Pos // of the token that closes it ("end", "elif", "else", "}")
}

// EmptyStmt is a lone ";".
type EmptyStmt struct{ Pos Pos }

// NullStmt is "null;", which does nothing.
type NullStmt struct{ Pos Pos }

// StopStmt is "stop;": it ends the task.
type StopStmt struct{ Pos Pos }

// ReturnStmt is "return;" or "return expr;" (Value nil for the former).
type ReturnStmt struct {
	Pos   Pos
	Value Expr
}

// VarStmt is "var a, b = expr;": local variables, or task-level ones when it
// is in Program.Vars.
type VarStmt struct {
	Pos  Pos
	Vars []*VarSpec
}

// VarSpec is one variable of a VarStmt; Init is nil when there is no "= expr".
type VarSpec struct {
	Pos         Pos
	Name, LName string
	Init        Expr
}

// AssignStmt is "target op value;" where Op is TokAssign or a compound
// operator (TokPlusEq ... TokCaretEq; TokenKind.BinaryOf gives its binary
// operator). Target is an *Ident, *IndexExpr, *MemberExpr or *KeyExpr.
type AssignStmt struct {
	Pos    Pos // start of the target
	OpPos  Pos
	Op     TokenKind
	Target Expr
	Value  Expr
}

// CallStmt is a call used as a statement; Call is a *CallExpr, *MethodCall
// or *SpawnExpr. A function's result is discarded.
type CallStmt struct {
	Pos  Pos
	Call Expr
}

// IfStmt is an if with its elif clauses (C-style "else if" gives an elif
// clause too) and an optional else block.
type IfStmt struct {
	Pos     Pos
	Clauses []*IfClause // the if clause first; never empty
	Else    *Block      // nil when there is no else
}

// IfClause is one condition of an IfStmt with its body.
type IfClause struct {
	Pos  Pos // of "if" or "elif" ("else" for "else if")
	Cond Expr
	Body *Block
}

// LoopStmt is an endless "loop ... end loop;" / "loop { ... }", left by
// exitif or stop/return.
type LoopStmt struct {
	Pos  Pos
	Body *Block
}

// WhileStmt is "while cond loop ... end loop;" / "while cond { ... }".
type WhileStmt struct {
	Pos  Pos
	Cond Expr
	Body *Block
}

// ExitIfStmt is "exitif cond;": it leaves the innermost loop when cond is
// true. The parser rejects it outside a loop.
type ExitIfStmt struct {
	Pos  Pos
	Cond Expr
}

// ForStmt is "for [init] [while cond] [by step] loop ... end loop;" (or
// with a "{ ... }" body). Every part is optional; a missing condition is
// always true. UNCERTAIN syntax, see docs/cgpl.md.
type ForStmt struct {
	Pos  Pos
	Init *AssignStmt // nil if absent
	Cond Expr        // nil if absent
	Step *AssignStmt // nil if absent
	Body *Block
}

func (s *Block) Position() Pos      { return s.Pos }
func (s *EmptyStmt) Position() Pos  { return s.Pos }
func (s *NullStmt) Position() Pos   { return s.Pos }
func (s *StopStmt) Position() Pos   { return s.Pos }
func (s *ReturnStmt) Position() Pos { return s.Pos }
func (s *VarStmt) Position() Pos    { return s.Pos }
func (s *VarSpec) Position() Pos    { return s.Pos }
func (s *AssignStmt) Position() Pos { return s.Pos }
func (s *CallStmt) Position() Pos   { return s.Pos }
func (s *IfStmt) Position() Pos     { return s.Pos }
func (s *IfClause) Position() Pos   { return s.Pos }
func (s *LoopStmt) Position() Pos   { return s.Pos }
func (s *WhileStmt) Position() Pos  { return s.Pos }
func (s *ExitIfStmt) Position() Pos { return s.Pos }
func (s *ForStmt) Position() Pos    { return s.Pos }

func (*Block) stmtNode()      {}
func (*EmptyStmt) stmtNode()  {}
func (*NullStmt) stmtNode()   {}
func (*StopStmt) stmtNode()   {}
func (*ReturnStmt) stmtNode() {}
func (*VarStmt) stmtNode()    {}
func (*AssignStmt) stmtNode() {}
func (*CallStmt) stmtNode()   {}
func (*IfStmt) stmtNode()     {}
func (*LoopStmt) stmtNode()   {}
func (*WhileStmt) stmtNode()  {}
func (*ExitIfStmt) stmtNode() {}
func (*ForStmt) stmtNode()    {}

// ---------------------------------------------------------------------------
// Expressions

// NumberLit is a decimal integer literal.
type NumberLit struct {
	Pos   Pos
	Value int64
	Text  string
}

// StringLit is a string literal; Value has the escapes decoded (it may hold
// any bytes, from \nnn escapes).
type StringLit struct {
	Pos   Pos
	Value string
	Text  string
}

// NullLit is "null".
type NullLit struct{ Pos Pos }

// BoolLit is "true" (the string "YES") or "false" (null).
type BoolLit struct {
	Pos   Pos
	Value bool
}

// Ident is a variable name.
type Ident struct {
	Pos         Pos
	Name, LName string
}

// UnaryExpr is "-x" (Op TokMinus) or "not x" / "!x" (Op TokNot for both).
type UnaryExpr struct {
	Pos Pos // of the operator
	Op  TokenKind
	X   Expr
}

// BinaryExpr is "x op y". Op is one of TokStar TokSlash TokPercent TokPlus
// TokMinus TokLt TokLe TokEq TokNe TokGe TokGt TokAnd TokAmp TokXor TokCaret
// TokOr TokPipe. The word and sign forms of the logical operators are kept
// apart ("and" vs "&") so that the compiler may make the words
// short-circuit; they have the same precedence.
type BinaryExpr struct {
	Pos  Pos // of the operator
	Op   TokenKind
	X, Y Expr
}

// CondExpr is "cond ? then : else".
type CondExpr struct {
	Pos              Pos // of "?"
	Cond, Then, Else Expr
}

// CallExpr is "f(args)" or "M::f(args)": a program section or a built-in.
type CallExpr struct {
	Pos             Pos // of the (first) name
	Module, LModule string
	Name, LName     string
	Args            []Expr
}

// MethodCall is "recv.f(args)", which means f(recv, args).
type MethodCall struct {
	Pos         Pos // of the method name
	Recv        Expr
	Name, LName string
	Args        []Expr
}

// IndexExpr is "x[index]".
type IndexExpr struct {
	Pos      Pos // of "["
	X, Index Expr
}

// MemberExpr is "x.key": the dictionary element key. Name is exactly as
// written (dictionary keys are case-sensitive).
type MemberExpr struct {
	Pos  Pos // of the key name
	X    Expr
	Name string
}

// KeyExpr is "x.(key)": the dictionary element whose key is the value of Key.
type KeyExpr struct {
	Pos    Pos // of "."
	X, Key Expr
}

// SpawnExpr is "spawn Entry" or "spawn Entry(arg)": start an entry of this
// program in a new task, giving the task handle. UNCERTAIN syntax, see
// docs/cgpl.md.
type SpawnExpr struct {
	Pos         Pos // of "spawn"
	Name, LName string
	NamePos     Pos
	Args        []Expr
}

// BadExpr stands for an expression that failed to parse; it only occurs in
// a program returned together with errors.
type BadExpr struct{ Pos Pos }

func (e *NumberLit) Position() Pos  { return e.Pos }
func (e *StringLit) Position() Pos  { return e.Pos }
func (e *NullLit) Position() Pos    { return e.Pos }
func (e *BoolLit) Position() Pos    { return e.Pos }
func (e *Ident) Position() Pos      { return e.Pos }
func (e *UnaryExpr) Position() Pos  { return e.Pos }
func (e *BinaryExpr) Position() Pos { return e.Pos }
func (e *CondExpr) Position() Pos   { return e.Pos }
func (e *CallExpr) Position() Pos   { return e.Pos }
func (e *MethodCall) Position() Pos { return e.Pos }
func (e *IndexExpr) Position() Pos  { return e.Pos }
func (e *MemberExpr) Position() Pos { return e.Pos }
func (e *KeyExpr) Position() Pos    { return e.Pos }
func (e *SpawnExpr) Position() Pos  { return e.Pos }
func (e *BadExpr) Position() Pos    { return e.Pos }

func (*NumberLit) exprNode()  {}
func (*StringLit) exprNode()  {}
func (*NullLit) exprNode()    {}
func (*BoolLit) exprNode()    {}
func (*Ident) exprNode()      {}
func (*UnaryExpr) exprNode()  {}
func (*BinaryExpr) exprNode() {}
func (*CondExpr) exprNode()   {}
func (*CallExpr) exprNode()   {}
func (*MethodCall) exprNode() {}
func (*IndexExpr) exprNode()  {}
func (*MemberExpr) exprNode() {}
func (*KeyExpr) exprNode()    {}
func (*SpawnExpr) exprNode()  {}
func (*BadExpr) exprNode()    {}

// StartPos is the position of the first token of e (Position is the
// operator's for binary, conditional, index and member expressions).
func StartPos(e Expr) Pos {
	for {
		switch x := e.(type) {
		case *BinaryExpr:
			e = x.X
		case *CondExpr:
			e = x.Cond
		case *IndexExpr:
			e = x.X
		case *MemberExpr:
			e = x.X
		case *KeyExpr:
			e = x.X
		case *MethodCall:
			e = x.Recv
		default:
			return e.Position()
		}
	}
}

// IsAssignable reports whether e may be the target of an assignment.
func IsAssignable(e Expr) bool {
	switch e.(type) {
	case *Ident, *IndexExpr, *MemberExpr, *KeyExpr:
		return true
	}
	return false
}

// ---------------------------------------------------------------------------
// Traversal

// Inspect walks the tree rooted at n depth-first, calling f for each node
// (Program, Section, Param, Block, statements, IfClause, VarSpec,
// expressions); when f returns false the node's children are skipped.
// Nil children are not visited.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	expr := func(e Expr) {
		if e != nil {
			Inspect(e, f)
		}
	}
	exprs := func(l []Expr) {
		for _, e := range l {
			Inspect(e, f)
		}
	}
	block := func(b *Block) {
		if b != nil {
			Inspect(b, f)
		}
	}
	switch x := n.(type) {
	case *Program:
		for _, v := range x.Vars {
			Inspect(v, f)
		}
		for _, s := range x.Sections {
			Inspect(s, f)
		}
	case *Section:
		for _, p := range x.Params {
			Inspect(p, f)
		}
		block(x.Body)
	case *Block:
		for _, s := range x.Stmts {
			Inspect(s, f)
		}
	case *ReturnStmt:
		expr(x.Value)
	case *VarStmt:
		for _, v := range x.Vars {
			Inspect(v, f)
		}
	case *VarSpec:
		expr(x.Init)
	case *AssignStmt:
		expr(x.Target)
		expr(x.Value)
	case *CallStmt:
		expr(x.Call)
	case *IfStmt:
		for _, c := range x.Clauses {
			Inspect(c, f)
		}
		block(x.Else)
	case *IfClause:
		expr(x.Cond)
		block(x.Body)
	case *LoopStmt:
		block(x.Body)
	case *WhileStmt:
		expr(x.Cond)
		block(x.Body)
	case *ExitIfStmt:
		expr(x.Cond)
	case *ForStmt:
		if x.Init != nil {
			Inspect(x.Init, f)
		}
		expr(x.Cond)
		if x.Step != nil {
			Inspect(x.Step, f)
		}
		block(x.Body)
	case *UnaryExpr:
		expr(x.X)
	case *BinaryExpr:
		expr(x.X)
		expr(x.Y)
	case *CondExpr:
		expr(x.Cond)
		expr(x.Then)
		expr(x.Else)
	case *CallExpr:
		exprs(x.Args)
	case *MethodCall:
		expr(x.Recv)
		exprs(x.Args)
	case *IndexExpr:
		expr(x.X)
		expr(x.Index)
	case *MemberExpr:
		expr(x.X)
	case *KeyExpr:
		expr(x.X)
		expr(x.Key)
	case *SpawnExpr:
		exprs(x.Args)
	}
}

// ---------------------------------------------------------------------------
// Printing

// Format prints n as an S-expression, without positions and independent of
// the syntax style, so two programs that mean the same print the same.
// Names of variables and callees print lower-cased (they are
// case-insensitive), dictionary keys as written. A Program, Section or
// statement with a body prints on several lines, indented by two spaces per
// level; an expression prints on one line.
//
// Forms: literals as Go literals, null, true, false; a name; (neg x),
// (not x), (op x y) with op the operator as written (+, ==, and, & ...),
// (? c a b), (call f args...), (call m::f args...), (method recv f args...),
// (index x i), (member x "key") for both x.key and x.(expr) (with the
// expression in place of the quoted key), (spawn e args...), (bad).
// Statements: (empty), (null), (stop), (return [x]), (var a (= b x)),
// (= target x) and (+= target x) ..., a call as its expression,
// (if c body (elif c body)... (else body)) with each body as (then ...),
// (loop ...), (while c ...), (exitif c), (for init cond step ...) with _
// for a missing part, (block ...). Sections: (entry main ...),
// (procedure p (a b) ...), (function m::f (x) external).
func Format(n Node) string {
	p := synPrinter{}
	p.node(n)
	return p.b.String()
}

// String prints the program with Format.
func (p *Program) String() string { return Format(p) }

type synPrinter struct {
	b     strings.Builder
	depth int
}

func (p *synPrinter) nl() {
	p.b.WriteByte('\n')
	for range p.depth {
		p.b.WriteString("  ")
	}
}

func (p *synPrinter) s(parts ...string) {
	for _, s := range parts {
		p.b.WriteString(s)
	}
}

// stmts prints each statement on its own line, one level deeper.
func (p *synPrinter) stmts(b *Block) {
	if b == nil {
		return
	}
	p.depth++
	for _, s := range b.Stmts {
		p.nl()
		p.node(s)
	}
	p.depth--
}

func (p *synPrinter) exprs(l []Expr) {
	for _, e := range l {
		p.s(" ")
		p.node(e)
	}
}

func (p *synPrinter) node(n Node) {
	switch x := n.(type) {
	case nil:
		p.s("_")
	case *Program:
		p.s("(program")
		p.depth++
		for _, v := range x.Vars {
			p.nl()
			p.node(v)
		}
		for _, s := range x.Sections {
			p.nl()
			p.node(s)
		}
		p.depth--
		p.s(")")
	case *Section:
		p.s("(", x.Kind.String(), " ")
		if x.LModule != "" {
			p.s(x.LModule, "::")
		}
		p.s(x.LName)
		if x.Kind != EntrySection {
			p.s(" (")
			for i, a := range x.Params {
				if i > 0 {
					p.s(" ")
				}
				p.s(a.LName)
			}
			p.s(")")
		}
		if x.Forward {
			p.s(" forward")
		}
		if x.External {
			p.s(" external")
		}
		p.stmts(x.Body)
		p.s(")")
	case *Param:
		p.s(x.LName)
	case *Block:
		p.s("(block")
		p.stmts(x)
		p.s(")")
	case *EmptyStmt:
		p.s("(empty)")
	case *NullStmt:
		p.s("(null)")
	case *StopStmt:
		p.s("(stop)")
	case *ReturnStmt:
		p.s("(return")
		if x.Value != nil {
			p.s(" ")
			p.node(x.Value)
		}
		p.s(")")
	case *VarStmt:
		p.s("(var")
		for _, v := range x.Vars {
			p.s(" ")
			p.node(v)
		}
		p.s(")")
	case *VarSpec:
		if x.Init == nil {
			p.s(x.LName)
		} else {
			p.s("(= ", x.LName, " ")
			p.node(x.Init)
			p.s(")")
		}
	case *AssignStmt:
		p.s("(", x.Op.String(), " ")
		p.node(x.Target)
		p.s(" ")
		p.node(x.Value)
		p.s(")")
	case *CallStmt:
		p.node(x.Call)
	case *IfStmt:
		p.s("(if ")
		for i, c := range x.Clauses {
			if i == 0 {
				p.node(c.Cond)
				p.depth++
				p.nl()
				p.s("(then")
				p.stmts(c.Body)
				p.s(")")
				p.depth--
				continue
			}
			p.depth++
			p.nl()
			p.node(c)
			p.depth--
		}
		if x.Else != nil {
			p.depth++
			p.nl()
			p.s("(else")
			p.stmts(x.Else)
			p.s(")")
			p.depth--
		}
		p.s(")")
	case *IfClause:
		p.s("(elif ")
		p.node(x.Cond)
		p.stmts(x.Body)
		p.s(")")
	case *LoopStmt:
		p.s("(loop")
		p.stmts(x.Body)
		p.s(")")
	case *WhileStmt:
		p.s("(while ")
		p.node(x.Cond)
		p.stmts(x.Body)
		p.s(")")
	case *ExitIfStmt:
		p.s("(exitif ")
		p.node(x.Cond)
		p.s(")")
	case *ForStmt:
		p.s("(for ")
		if x.Init != nil {
			p.node(x.Init)
		} else {
			p.s("_")
		}
		p.s(" ")
		p.node(x.Cond)
		p.s(" ")
		if x.Step != nil {
			p.node(x.Step)
		} else {
			p.s("_")
		}
		p.stmts(x.Body)
		p.s(")")
	case *NumberLit:
		p.s(strconv.FormatInt(x.Value, 10))
	case *StringLit:
		p.s(strconv.Quote(x.Value))
	case *NullLit:
		p.s("null")
	case *BoolLit:
		p.s(strconv.FormatBool(x.Value))
	case *Ident:
		p.s(x.LName)
	case *UnaryExpr:
		if x.Op == TokMinus {
			p.s("(neg ")
		} else {
			p.s("(not ")
		}
		p.node(x.X)
		p.s(")")
	case *BinaryExpr:
		p.s("(", x.Op.String(), " ")
		p.node(x.X)
		p.s(" ")
		p.node(x.Y)
		p.s(")")
	case *CondExpr:
		p.s("(? ")
		p.node(x.Cond)
		p.s(" ")
		p.node(x.Then)
		p.s(" ")
		p.node(x.Else)
		p.s(")")
	case *CallExpr:
		p.s("(call ")
		if x.LModule != "" {
			p.s(x.LModule, "::")
		}
		p.s(x.LName)
		p.exprs(x.Args)
		p.s(")")
	case *MethodCall:
		p.s("(method ")
		p.node(x.Recv)
		p.s(" ", x.LName)
		p.exprs(x.Args)
		p.s(")")
	case *IndexExpr:
		p.s("(index ")
		p.node(x.X)
		p.s(" ")
		p.node(x.Index)
		p.s(")")
	case *MemberExpr:
		p.s("(member ")
		p.node(x.X)
		p.s(" ", strconv.Quote(x.Name), ")")
	case *KeyExpr:
		p.s("(member ")
		p.node(x.X)
		p.s(" ")
		p.node(x.Key)
		p.s(")")
	case *SpawnExpr:
		p.s("(spawn ", x.LName)
		p.exprs(x.Args)
		p.s(")")
	case *BadExpr:
		p.s("(bad)")
	default:
		p.s("(?node)")
	}
}

package cgpl

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits that keep hostile input from exhausting the parser.
const (
	// MaxParseErrors is how many errors Parse reports before it gives up on a
	// file (the last one says so).
	MaxParseErrors = 50
	// MaxParseNesting bounds the depth of the syntax tree: nested blocks,
	// parentheses, unary operators, ternaries, and the links of an operator
	// or postfix chain (a+b+c is two levels). Deeper input is an error.
	MaxParseNesting = 256
)

// Parse parses one CG/PL source file written in either syntax (chosen per
// code section). On failure it returns the partial program together with
// an ErrorList (sorted, at most MaxParseErrors+1 entries); on success the error
// is nil. Parse checks syntax, "end" keywords and exitif placement; call
// Check afterwards for the checks that need the whole program and the
// library (unknown callees, arities, duplicates, return values).
func Parse(filename string, src []byte) (*Program, error) {
	toks, lexErrs := Tokenize(filename, src)
	p := &srcParser{
		toks:     toks,
		tok:      toks[0],
		prog:     &Program{File: filename},
		lexLines: make(map[int]bool, len(lexErrs)),
		errs:     append(ErrorList(nil), lexErrs...),
	}
	for _, e := range lexErrs {
		p.lexLines[e.Pos.Line] = true
	}
	p.run()
	p.errs.Sort()
	p.prog.buildIndex()
	return p.prog, p.errs.Err()
}

// synBailout is the panic value that aborts parsing (too many errors, too
// deep); Parse recovers it.
type synBailout struct{}

type srcParser struct {
	toks []Token
	i    int
	tok  Token // toks[i]
	prog *Program

	errs        ErrorList
	lexLines    map[int]bool // lines with a lexer error: parser errors there are noise
	lastErrLine int

	depth int
	loops int    // loops enclosing the current statement
	style Syntax // of the current section
}

func (p *srcParser) run() {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(synBailout); !ok {
				panic(r)
			}
		}
	}()
	if len(p.errs) >= MaxParseErrors {
		p.tooMany()
	}
	p.parseProgram()
}

// ---------------------------------------------------------------------------
// Tokens and errors

func (p *srcParser) next() {
	if p.i < len(p.toks)-1 {
		p.i++
	}
	p.tok = p.toks[p.i]
}

func (p *srcParser) peek() Token {
	if p.i < len(p.toks)-1 {
		return p.toks[p.i+1]
	}
	return p.toks[p.i]
}

func (p *srcParser) prev() Token {
	if p.i > 0 {
		return p.toks[p.i-1]
	}
	return Token{}
}

func (p *srcParser) got(k TokenKind) bool {
	if p.tok.Kind == k {
		p.next()
		return true
	}
	return false
}

// errAt records an error unless one is already reported on that line, or
// the lexer reported one on that line or the line of the previous token (a
// second error there is nearly always a consequence of the first: an
// unterminated string swallows the rest of its line, for instance).
func (p *srcParser) errAt(pos Pos, tok, hint, format string, args ...any) {
	if pos.Line == p.lastErrLine || p.lexLines[pos.Line] || p.lexLines[p.prev().Pos.Line] {
		return
	}
	p.lastErrLine = pos.Line
	p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Token: synTokenText(tok), Hint: hint})
	if len(p.errs) >= MaxParseErrors {
		p.tooMany()
	}
}

func (p *srcParser) tooMany() {
	p.errs = append(p.errs, &Error{Pos: p.tok.Pos, Msg: fmt.Sprintf("too many errors (%d), giving up on this file", len(p.errs))})
	panic(synBailout{})
}

// errTok reports an error at the current token.
func (p *srcParser) errTok(hint, format string, args ...any) {
	t := p.tok
	if t.Kind == TokEOF {
		p.errAt(t.Pos, "", hint, format+", found end of file", args...)
		return
	}
	p.errAt(t.Pos, t.Text, hint, format, args...)
}

// expected reports that what was expected at the current token.
func (p *srcParser) expected(what string) {
	p.errTok(p.hintFor(), "expected %s", what)
}

// hintFor suggests a fix for a common slip at the current token.
func (p *srcParser) hintFor() string {
	if p.tok.Kind == TokAssign {
		return `"=" assigns; use "==" to compare`
	}
	return ""
}

// expect consumes a token of kind k or reports that it is missing (and
// does not consume anything).
func (p *srcParser) expect(k TokenKind, context string) bool {
	if p.got(k) {
		return true
	}
	p.expected(fmt.Sprintf("%q%s", k.String(), context))
	return false
}

// expectSemi ends a simple statement or declaration. A missing ";" at the
// end of a line is reported after the previous token and assumed; one
// missing in the middle of a line is reported there and the rest of the
// statement is skipped.
func (p *srcParser) expectSemi() {
	if p.got(TokSemi) {
		return
	}
	prev := p.prev()
	if p.tok.Kind == TokEOF || prev.Pos.Line < p.tok.Pos.Line && prev.Pos.IsValid() {
		at := prev.Pos
		at.Col += utf8.RuneCountInString(prev.Text)
		p.errAt(at, "", "", "missing %q after %s", ";", synDescribe(prev))
		return
	}
	p.expected(`";"`)
	p.sync()
}

// synDescribe names a token for a message: keywords and signs quoted,
// names and literals as written.
func synDescribe(t Token) string {
	switch t.Kind {
	case TokEOF:
		return "end of file"
	case TokName, TokNumber, TokString:
		return synTokenText(t.Text)
	}
	return fmt.Sprintf("%q", t.Kind.String())
}

// sync skips to the end of the broken statement: past the next ";", or up
// to a token that ends a body or starts a statement.
func (p *srcParser) sync() {
	for {
		switch p.tok.Kind {
		case TokEOF, TokEnd, TokRBrace, TokElif, TokElse,
			TokEntry, TokProcedure, TokFunction,
			TokIf, TokLoop, TokWhile, TokFor, TokExitif, TokReturn, TokStop, TokVar:
			return
		case TokSemi:
			p.next()
			return
		}
		p.next()
	}
}

// enter and leave track nesting depth.
func (p *srcParser) enter() {
	p.depth++
	if p.depth > MaxParseNesting {
		p.lastErrLine = 0
		p.errs = append(p.errs, &Error{Pos: p.tok.Pos, Token: synTokenText(p.tok.Text),
			Msg: fmt.Sprintf("nesting too deep (more than %d levels)", MaxParseNesting)})
		panic(synBailout{})
	}
}

func (p *srcParser) leave() { p.depth-- }

func synAt(pos Pos) string { return fmt.Sprintf("%d:%d", pos.Line, pos.Col) }

// ---------------------------------------------------------------------------
// Program and sections

func (p *srcParser) parseProgram() {
	for p.tok.Kind != TokEOF {
		switch p.tok.Kind {
		case TokEntry, TokProcedure, TokFunction:
			p.parseSection()
		case TokVar:
			p.prog.Vars = append(p.prog.Vars, p.parseVar())
		case TokSemi:
			p.next()
		default:
			hint := "a program is made of entries, procedures, functions and task-level var declarations"
			switch {
			case p.tok.Kind == TokEnd || p.tok.Kind == TokRBrace:
				hint = "this closes nothing: check the end or } above it"
			case p.tok.Kind == TokName || p.tok.Kind.IsKeyword():
				hint = "statements must be inside an entry, procedure or function"
			}
			p.errTok(hint, "expected entry, procedure, function or var")
			p.syncTop()
		}
	}
}

// syncTop skips to the next section heading (a section keyword that does
// not follow "end").
func (p *srcParser) syncTop() {
	p.next()
	for p.tok.Kind != TokEOF {
		switch p.tok.Kind {
		case TokEntry, TokProcedure, TokFunction:
			if p.prev().Kind != TokEnd {
				return
			}
		}
		p.next()
	}
}

var synSectionKinds = map[TokenKind]SectionKind{
	TokEntry: EntrySection, TokProcedure: ProcedureSection, TokFunction: FunctionSection,
}

func (p *srcParser) parseSection() {
	sec := &Section{Pos: p.tok.Pos, Kind: synSectionKinds[p.tok.Kind]}
	p.next()
	sec.NamePos = p.tok.Pos
	sec.Name, sec.LName = p.parseName(fmt.Sprintf("a name for the %s", sec.Kind))
	if p.tok.Kind == TokColonColon {
		p.next()
		sec.Module, sec.LModule = sec.Name, sec.LName
		sec.NamePos = p.tok.Pos
		sec.Name, sec.LName = p.parseName(fmt.Sprintf("a %s name after %q", sec.Kind, "::"))
	}
	what := fmt.Sprintf("%s %s at %s", sec.Kind, sec.QualName(), synAt(sec.Pos))
	if sec.Kind == EntrySection {
		if p.tok.Kind == TokLParen {
			p.errTok("a started task finds its data in Vars().startParameter", "an entry takes no parameters")
			p.parseParams()
		}
	} else {
		sec.Params = p.parseParams()
	}

	switch p.tok.Kind {
	case TokForward, TokExternal:
		sec.Forward = p.tok.Kind == TokForward
		sec.External = !sec.Forward
		if sec.Forward && sec.Module != "" {
			p.errAt(sec.Pos, "", "only an external declaration names a module", "a forward declaration cannot have a module qualifier")
		}
		p.next()
		p.expectSemi()
		p.prog.Sections = append(p.prog.Sections, sec)
		return
	case TokLBrace:
		sec.Syntax = SyntaxC
	case TokIs:
		sec.Syntax = SyntaxBasic
	default:
		p.expected(`"is", "{", "forward" or "external" after the section heading`)
		sec.Syntax = SyntaxBasic // and parse the body as if "is" were there
	}
	if sec.Module != "" {
		p.errAt(sec.NamePos, sec.Module, "a module qualifier belongs in an external declaration: procedure M::P(x) external;",
			"a section defined in this file cannot have a module qualifier")
	}
	p.style, p.loops, p.depth = sec.Syntax, 0, 0
	if sec.Syntax == SyntaxC {
		sec.Body, sec.End = p.parseCBlock(what)
	} else {
		body := &Block{Pos: p.tok.Pos}
		p.got(TokIs)
		body.Stmts = p.parseStmtList(SyntaxBasic, false)
		body.End = p.tok.Pos
		sec.Body = body
		sec.End = p.closeBasic(what, synEndSection[sec.Kind])
	}
	p.prog.Sections = append(p.prog.Sections, sec)
}

var synEndSection = map[SectionKind][]TokenKind{
	EntrySection: {TokEntry}, ProcedureSection: {TokProcedure}, FunctionSection: {TokFunction},
}

// parseName reads a name; a reserved word in its place is reported (and
// taken as the name, to carry on).
func (p *srcParser) parseName(what string) (name, lower string) {
	t := p.tok
	switch {
	case t.Kind == TokName:
		p.next()
		return t.Text, strings.ToLower(t.Text)
	case t.Kind.IsKeyword() && t.Kind != TokIs && t.Kind != TokEnd:
		p.errTok(fmt.Sprintf("%q is a reserved word and cannot be used as a name", strings.ToLower(t.Text)), "expected %s", what)
		p.next()
		return t.Text, strings.ToLower(t.Text)
	}
	p.expected(what)
	return "", ""
}

// parseParams reads "(" [name {"," name}] ")".
func (p *srcParser) parseParams() []*Param {
	if !p.expect(TokLParen, " before the parameter list") {
		return nil
	}
	var params []*Param
	if p.got(TokRParen) {
		return params
	}
	for {
		pos := p.tok.Pos
		name, lower := p.parseName("a parameter name")
		if name != "" {
			params = append(params, &Param{Pos: pos, Name: name, LName: lower})
		}
		if !p.got(TokComma) {
			break
		}
	}
	p.expect(TokRParen, " after the parameters")
	return params
}

// closeBasic reads "end [keyword] ;" closing a Basic construct described by
// what; the keyword must be one of want. It returns the position of "end".
func (p *srcParser) closeBasic(what string, want []TokenKind) Pos {
	if p.tok.Kind != TokEnd {
		p.errTok("", "expected %q to close the %s", "end", what)
		return Pos{}
	}
	end := p.tok.Pos
	endLine := end.Line
	p.next()
	if t := p.tok; synIsEndKeyword(t.Kind) && (t.Pos.Line == endLine || p.peek().Kind == TokSemi) {
		ok := false
		for _, k := range want {
			ok = ok || t.Kind == k
		}
		if !ok {
			p.errAt(t.Pos, t.Text, fmt.Sprintf("write %q or just %q", "end "+want[0].String(), "end"),
				"%q does not match the %s", "end "+strings.ToLower(t.Text), what)
		}
		p.next()
	}
	p.expectSemi()
	return end
}

func synIsEndKeyword(k TokenKind) bool {
	switch k {
	case TokEntry, TokProcedure, TokFunction, TokIf, TokLoop, TokWhile, TokFor:
		return true
	}
	return false
}

// ---------------------------------------------------------------------------
// Statements

// parseStmtList parses statements up to the end of a body. In Basic form a
// body ends at "end" (and at "elif"/"else" when ifBody says it belongs to
// an if); in C form at "}". Both end at end of file and at
// a section keyword (a missing end, reported by the caller).
func (p *srcParser) parseStmtList(form Syntax, ifBody bool) []Stmt {
	var list []Stmt
	for {
		switch p.tok.Kind {
		case TokEOF, TokEntry, TokProcedure, TokFunction:
			return list
		case TokEnd:
			if form == SyntaxBasic {
				return list
			}
			p.errTok(fmt.Sprintf("this is a %s section: blocks are closed with }", p.style), "unexpected %q", "end")
			p.next()
			p.sync()
			continue
		case TokElif, TokElse:
			if form == SyntaxBasic && ifBody {
				return list
			}
			if form == SyntaxBasic {
				p.errTok("", "%q without a matching if", strings.ToLower(p.tok.Text))
			} else {
				p.errTok("in C-style syntax elif and else follow the } of the if block", "%q without a matching if", strings.ToLower(p.tok.Text))
			}
			p.next()
			continue
		case TokRBrace:
			if form == SyntaxC {
				return list
			}
			p.errTok(fmt.Sprintf("this is a %s section: it has no { } blocks", p.style), "unexpected %q", "}")
			p.next()
			continue
		}
		start := p.i
		if s := p.parseStmt(); s != nil {
			list = append(list, s)
		}
		if p.i == start { // no progress: drop the token
			p.next()
		}
	}
}

func (p *srcParser) parseStmt() Stmt {
	t := p.tok
	switch t.Kind {
	case TokSemi:
		p.next()
		return &EmptyStmt{Pos: t.Pos}
	case TokNull:
		if k := p.peek().Kind; k == TokSemi || k == TokEOF || p.peek().Pos.Line > t.Pos.Line {
			p.next()
			p.expectSemi()
			return &NullStmt{Pos: t.Pos}
		}
	case TokStop:
		p.next()
		p.expectSemi()
		return &StopStmt{Pos: t.Pos}
	case TokReturn:
		p.next()
		s := &ReturnStmt{Pos: t.Pos}
		if synStartsExpr(p.tok.Kind) {
			s.Value = p.parseExpr()
		}
		p.expectSemi()
		return s
	case TokVar:
		return p.parseVar()
	case TokIf:
		return p.parseIf()
	case TokLoop:
		return p.parseLoop()
	case TokWhile:
		return p.parseWhile()
	case TokFor:
		return p.parseFor()
	case TokExitif:
		p.next()
		if p.loops == 0 {
			p.errAt(t.Pos, t.Text, "exitif leaves the innermost loop or while; use return or stop to leave a section", "exitif outside a loop")
		}
		s := &ExitIfStmt{Pos: t.Pos, Cond: p.parseExpr()}
		p.expectSemi()
		return s
	case TokLBrace:
		if p.style == SyntaxBasic {
			p.errTok("this is a Basic section: it has no { } blocks", "unexpected %q", "{")
		}
		p.enter()
		b, _ := p.parseCBlock("block")
		p.leave()
		return b
	}
	return p.parseSimpleStmt(true)
}

// parseSimpleStmt parses an assignment or a call, with its ";" when semi.
func (p *srcParser) parseSimpleStmt(semi bool) Stmt {
	start := p.tok
	if !synStartsExpr(start.Kind) {
		p.errTok("", "expected a statement")
		if semi {
			p.sync()
		}
		return nil
	}
	x := p.parseExpr()
	if p.tok.Kind.IsAssignOp() {
		op := p.tok
		p.next()
		if !IsAssignable(x) {
			if _, bad := x.(*BadExpr); !bad {
				p.errAt(start.Pos, start.Text, "only a variable, x[i], x.key or x.(key) can be assigned to", "cannot assign to this expression")
			}
		}
		s := &AssignStmt{Pos: StartPos(x), OpPos: op.Pos, Op: op.Kind, Target: x, Value: p.parseExpr()}
		if semi {
			p.expectSemi()
		}
		return s
	}
	switch x.(type) {
	case *CallExpr, *MethodCall, *SpawnExpr:
		if semi {
			p.expectSemi()
		}
		return &CallStmt{Pos: StartPos(x), Call: x}
	case *BadExpr:
		if semi {
			p.sync()
		}
		return nil
	}
	hint := "a statement is an assignment or a call"
	if b, ok := x.(*BinaryExpr); ok && b.Op == TokEq {
		hint = `"==" compares; use "=" to assign`
	}
	if k := p.tok.Kind; (k == TokName || k == TokString || k == TokNumber) && p.tok.Pos.Line == p.prev().Pos.Line {
		p.errTok(`is a ";" or an operator missing?`, "unexpected %s", synDescribe(p.tok))
	} else {
		p.errAt(start.Pos, start.Text, hint, "this expression is not a statement")
	}
	if semi {
		p.sync()
	}
	return nil
}

func synStartsExpr(k TokenKind) bool {
	switch k {
	case TokName, TokNumber, TokString, TokNull, TokTrue, TokFalse, TokLParen,
		TokMinus, TokNot, TokBang, TokSpawn:
		return true
	}
	return false
}

// parseVar parses "var name [= expr] {, name [= expr]} ;".
func (p *srcParser) parseVar() *VarStmt {
	s := &VarStmt{Pos: p.tok.Pos}
	p.next()
	for {
		pos := p.tok.Pos
		name, lower := p.parseName("a variable name")
		if name == "" {
			p.sync()
			return s
		}
		v := &VarSpec{Pos: pos, Name: name, LName: lower}
		if p.got(TokAssign) {
			v.Init = p.parseExpr()
		}
		s.Vars = append(s.Vars, v)
		if !p.got(TokComma) {
			break
		}
	}
	p.expectSemi()
	return s
}

// bodyForm decides the form of a compound statement from the token that
// opens its body, reporting a form that does not match the section. It
// consumes the Basic opener ("then", "loop"); parseCBlock consumes "{".
// after names what precedes the body ("if condition"); basicForm and cForm
// show the two forms in hints.
func (p *srcParser) bodyForm(basicOpener TokenKind, after, basicForm, cForm string) Syntax {
	switch p.tok.Kind {
	case basicOpener:
		if p.style == SyntaxC {
			p.errTok("this is a C-style section: write "+cForm, "Basic-style %q in a C-style section", basicOpener.String())
		}
		p.next()
		return SyntaxBasic
	case TokLBrace:
		if p.style == SyntaxBasic {
			p.errTok("this is a Basic section: write "+basicForm, "C-style %q in a Basic section", "{")
		}
		return SyntaxC
	}
	if p.style == SyntaxC {
		p.expected(fmt.Sprintf(`"{" after the %s`, after))
	} else {
		p.expected(fmt.Sprintf("%q after the %s", basicOpener.String(), after))
	}
	return p.style
}

func (p *srcParser) parseIf() Stmt {
	p.enter()
	defer p.leave()
	s := &IfStmt{Pos: p.tok.Pos}
	what := "if at " + synAt(s.Pos)
	p.next()
	cond := p.parseExpr()
	bodyPos := p.tok.Pos
	if p.bodyForm(TokThen, "if condition", "if cond then ... end if;", "if cond { ... }") == SyntaxC {
		body, _ := p.parseCBlock(what)
		s.Clauses = append(s.Clauses, &IfClause{Pos: s.Pos, Cond: cond, Body: body})
		for {
			pos := p.tok.Pos
			if p.got(TokElif) {
			} else if p.tok.Kind == TokElse && p.peek().Kind == TokIf {
				p.next()
				p.next()
			} else {
				break
			}
			c := &IfClause{Pos: pos, Cond: p.parseExpr()}
			c.Body, _ = p.parseCBlock(what)
			s.Clauses = append(s.Clauses, c)
		}
		if p.got(TokElse) {
			s.Else, _ = p.parseCBlock(what)
		}
		return s
	}
	// Basic form.
	body := &Block{Pos: bodyPos}
	body.Stmts = p.parseStmtList(SyntaxBasic, true)
	body.End = p.tok.Pos
	s.Clauses = append(s.Clauses, &IfClause{Pos: s.Pos, Cond: cond, Body: body})
	for p.tok.Kind == TokElif {
		c := &IfClause{Pos: p.tok.Pos}
		p.next()
		c.Cond = p.parseExpr()
		c.Body = &Block{Pos: p.tok.Pos}
		p.expect(TokThen, " after the elif condition")
		c.Body.Stmts = p.parseStmtList(SyntaxBasic, true)
		c.Body.End = p.tok.Pos
		s.Clauses = append(s.Clauses, c)
	}
	if p.tok.Kind == TokElse {
		s.Else = &Block{Pos: p.tok.Pos}
		p.next()
		for {
			s.Else.Stmts = append(s.Else.Stmts, p.parseStmtList(SyntaxBasic, true)...)
			if p.tok.Kind != TokElif && p.tok.Kind != TokElse {
				break
			}
			p.errTok("elif and else come before the else part", "%q after else", strings.ToLower(p.tok.Text))
			p.next()
		}
		s.Else.End = p.tok.Pos
	}
	p.closeBasic(what, []TokenKind{TokIf})
	return s
}

// parseCBlock parses "{ statements }". A missing "{" is reported and the
// statements up to "}" are parsed anyway.
func (p *srcParser) parseCBlock(what string) (*Block, Pos) {
	b := &Block{Pos: p.tok.Pos}
	if !p.got(TokLBrace) {
		p.expected(`"{"`)
	}
	b.Stmts = p.parseStmtList(SyntaxC, false)
	b.End = p.tok.Pos
	if !p.got(TokRBrace) {
		p.errTok("", "expected %q to close the %s", "}", what)
		return b, Pos{}
	}
	return b, b.End
}

// loopBody parses the body of loop/while/for in the given form; a Basic
// body's opener (at pos) is already consumed.
func (p *srcParser) loopBody(form Syntax, pos Pos, what string, ends []TokenKind) *Block {
	p.loops++
	defer func() { p.loops-- }()
	if form == SyntaxC {
		b, _ := p.parseCBlock(what)
		return b
	}
	b := &Block{Pos: pos}
	b.Stmts = p.parseStmtList(SyntaxBasic, false)
	b.End = p.tok.Pos
	p.closeBasic(what, ends)
	return b
}

func (p *srcParser) parseLoop() Stmt {
	p.enter()
	defer p.leave()
	s := &LoopStmt{Pos: p.tok.Pos}
	what := "loop at " + synAt(s.Pos)
	p.next()
	form := SyntaxBasic
	if p.tok.Kind == TokLBrace {
		form = SyntaxC
		if p.style == SyntaxBasic {
			p.errTok("this is a Basic section: write loop ... end loop;", "C-style %q in a Basic section", "{")
		}
	} else if p.style == SyntaxC {
		p.expected(`"{" after loop`)
	}
	s.Body = p.loopBody(form, s.Pos, what, []TokenKind{TokLoop})
	return s
}

func (p *srcParser) parseWhile() Stmt {
	p.enter()
	defer p.leave()
	s := &WhileStmt{Pos: p.tok.Pos}
	what := "while at " + synAt(s.Pos)
	p.next()
	s.Cond = p.parseExpr()
	pos := p.tok.Pos
	form := p.bodyForm(TokLoop, "while condition", "while cond loop ... end loop;", "while cond { ... }")
	s.Body = p.loopBody(form, pos, what, []TokenKind{TokLoop, TokWhile})
	return s
}

// parseFor parses "for [init] [while cond] [by step] body" (UNCERTAIN
// syntax: every part optional).
func (p *srcParser) parseFor() Stmt {
	p.enter()
	defer p.leave()
	s := &ForStmt{Pos: p.tok.Pos}
	what := "for at " + synAt(s.Pos)
	p.next()
	assign := func(part string) *AssignStmt {
		st := p.parseSimpleStmt(false)
		a, ok := st.(*AssignStmt)
		if !ok && st != nil {
			p.errAt(st.Position(), "", "", "the %s part of a for must be an assignment", part)
		}
		return a
	}
	if k := p.tok.Kind; k != TokWhile && k != TokBy && k != TokLoop && k != TokLBrace {
		s.Init = assign("initial")
	}
	if p.got(TokWhile) {
		s.Cond = p.parseExpr()
	}
	if p.got(TokBy) {
		s.Step = assign("by")
	}
	pos := p.tok.Pos
	form := p.bodyForm(TokLoop, "for heading", "for ... loop ... end loop;", "for ... { ... }")
	s.Body = p.loopBody(form, pos, what, []TokenKind{TokLoop, TokFor})
	return s
}

// ---------------------------------------------------------------------------
// Expressions

// Binary operator precedence, higher binds tighter (see docs/cgpl.md).
func synPrec(k TokenKind) int {
	switch k {
	case TokOr, TokPipe:
		return 1
	case TokXor, TokCaret:
		return 2
	case TokAnd, TokAmp:
		return 3
	case TokLt, TokLe, TokEq, TokNe, TokGe, TokGt:
		return 4
	case TokPlus, TokMinus:
		return 5
	case TokStar, TokSlash, TokPercent:
		return 6
	}
	return 0
}

func (p *srcParser) parseExpr() Expr {
	cond := p.parseBinary(1)
	if p.tok.Kind != TokQuestion {
		return cond
	}
	p.enter()
	defer p.leave()
	e := &CondExpr{Pos: p.tok.Pos, Cond: cond}
	p.next()
	e.Then = p.parseExpr()
	if !p.got(TokColon) {
		p.expected(`":" in the conditional expression`)
	}
	e.Else = p.parseExpr()
	return e
}

func (p *srcParser) parseBinary(minPrec int) Expr {
	x := p.parseUnary()
	links := 0
	defer func() { p.depth -= links }()
	for {
		prec := synPrec(p.tok.Kind)
		if prec < minPrec || prec == 0 {
			return x
		}
		op := p.tok
		p.next()
		p.enter()
		links++
		y := p.parseBinary(prec + 1)
		x = &BinaryExpr{Pos: op.Pos, Op: op.Kind, X: x, Y: y}
	}
}

func (p *srcParser) parseUnary() Expr {
	p.enter()
	defer p.leave()
	switch t := p.tok; t.Kind {
	case TokMinus:
		p.next()
		return &UnaryExpr{Pos: t.Pos, Op: TokMinus, X: p.parseUnary()}
	case TokNot, TokBang:
		p.next()
		return &UnaryExpr{Pos: t.Pos, Op: TokNot, X: p.parseUnary()}
	}
	return p.parsePostfix()
}

func (p *srcParser) parsePostfix() Expr {
	x := p.parsePrimary()
	links := 0
	defer func() { p.depth -= links }()
	for {
		switch t := p.tok; t.Kind {
		case TokLBrack:
			p.next()
			p.enter()
			links++
			idx := p.parseExpr()
			p.expect(TokRBrack, " after the index")
			x = &IndexExpr{Pos: t.Pos, X: x, Index: idx}
		case TokDot:
			p.next()
			p.enter()
			links++
			n := p.tok
			switch {
			case n.Kind == TokLParen:
				p.next()
				key := p.parseExpr()
				p.expect(TokRParen, " after the key expression")
				x = &KeyExpr{Pos: t.Pos, X: x, Key: key}
			case n.Kind == TokName || n.Kind.IsKeyword():
				p.next()
				if p.tok.Kind == TokLParen {
					x = &MethodCall{Pos: n.Pos, Recv: x, Name: n.Text, LName: strings.ToLower(n.Text), Args: p.parseArgs()}
				} else {
					x = &MemberExpr{Pos: n.Pos, X: x, Name: n.Text}
				}
			default:
				p.expected(`a key name or "(" after "."`)
				return x
			}
		default:
			return x
		}
	}
}

// parseArgs parses "(" [expr {"," expr}] ")".
func (p *srcParser) parseArgs() []Expr {
	p.next() // (
	var args []Expr
	if p.got(TokRParen) {
		return args
	}
	for {
		args = append(args, p.parseExpr())
		if !p.got(TokComma) {
			break
		}
	}
	p.expect(TokRParen, " after the arguments")
	return args
}

func (p *srcParser) parsePrimary() Expr {
	t := p.tok
	switch t.Kind {
	case TokNumber:
		p.next()
		return &NumberLit{Pos: t.Pos, Value: t.Num, Text: t.Text}
	case TokString:
		p.next()
		return &StringLit{Pos: t.Pos, Value: t.Str, Text: t.Text}
	case TokNull:
		p.next()
		return &NullLit{Pos: t.Pos}
	case TokTrue, TokFalse:
		p.next()
		return &BoolLit{Pos: t.Pos, Value: t.Kind == TokTrue}
	case TokLParen:
		p.next()
		x := p.parseExpr()
		p.expect(TokRParen, "")
		return x
	case TokName:
		p.next()
		if p.tok.Kind == TokColonColon {
			p.next()
			c := &CallExpr{Pos: t.Pos, Module: t.Text, LModule: strings.ToLower(t.Text)}
			c.Name, c.LName = p.parseName(fmt.Sprintf("a name after %q", t.Text+"::"))
			if p.tok.Kind != TokLParen {
				p.errTok("a module qualifier only names a procedure or function to call: M::f(args)", "expected %q after %s", "(", t.Text+"::"+c.Name)
				return c
			}
			c.Args = p.parseArgs()
			return c
		}
		if p.tok.Kind == TokLParen {
			return &CallExpr{Pos: t.Pos, Name: t.Text, LName: strings.ToLower(t.Text), Args: p.parseArgs()}
		}
		return &Ident{Pos: t.Pos, Name: t.Text, LName: strings.ToLower(t.Text)}
	case TokSpawn:
		p.next()
		s := &SpawnExpr{Pos: t.Pos, NamePos: p.tok.Pos}
		s.Name, s.LName = p.parseName("an entry name after spawn")
		if p.tok.Kind == TokLParen {
			s.Args = p.parseArgs()
		}
		return s
	}
	hint := ""
	if t.Kind.IsKeyword() {
		hint = fmt.Sprintf("%q is a reserved word", strings.ToLower(t.Text))
		if t.Kind == TokThen || t.Kind == TokLoop || t.Kind == TokBy {
			hint = ""
		}
	}
	p.errTok(hint, "expected an expression")
	return &BadExpr{Pos: t.Pos}
}

// ---------------------------------------------------------------------------
// Check

// Check runs the compile-time checks that need the whole program: duplicate
// sections and parameters, forward and external declarations that do not
// agree with each other or with the definition (kind and parameter count),
// forward declarations never defined, "return expr" outside a function,
// calls of unknown procedures and functions, calls with the wrong number of
// arguments, calls of entries, procedures used in expressions, and spawn
// of anything but an entry.
//
// A callee is looked up in the program first (sections shadow built-ins),
// then with known, which gets the lower-cased name and returns the
// built-in's argument bounds (max -1: no limit); known may be nil. A
// qualified call M::f needs an external declaration. x.f(args) is checked
// as f(x, args). Check reports errors in position order; it does not stop
// at the first.
func Check(prog *Program, known func(name string) (min, max int, ok bool)) ErrorList {
	c := &synChecker{prog: prog, known: known}
	c.sections()
	for _, v := range prog.Vars {
		c.stmt(v)
	}
	for _, s := range prog.Sections {
		if s.Body != nil {
			c.sec = s
			c.block(s.Body)
		}
	}
	c.errs.Sort()
	return c.errs
}

type synChecker struct {
	prog  *Program
	known func(string) (int, int, bool)
	sec   *Section
	errs  ErrorList
}

func (c *synChecker) errorf(pos Pos, tok, hint, format string, args ...any) {
	c.errs = append(c.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Token: synTokenText(tok), Hint: hint})
}

func synPlural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (c *synChecker) sections() {
	defs := map[string]*Section{}
	first := map[string]*Section{} // first heading of each name (definition or declaration)
	defined := map[string]bool{}
	for _, s := range c.prog.Sections {
		seen := map[string]*Param{}
		for _, a := range s.Params {
			if old := seen[a.LName]; old != nil {
				c.errorf(a.Pos, a.Name, "", "duplicate parameter %s in %s %s (also at %s)", a.Name, s.Kind, s.QualName(), synAt(old.Pos))
			} else {
				seen[a.LName] = a
			}
		}
		if s.Body != nil {
			defined[s.Key()] = true
		}
	}
	for _, s := range c.prog.Sections {
		k := s.Key()
		if s.Body != nil {
			if d := defs[k]; d != nil {
				c.errorf(s.NamePos, s.Name, "", "%s %s is already defined at %s", s.Kind, s.QualName(), synAt(d.Pos))
				continue
			}
			defs[k] = s
		}
		if s.Forward && !defined[k] {
			c.errorf(s.NamePos, s.Name, "", "forward-declared %s %s is never defined", s.Kind, s.QualName())
		}
		ref := first[k]
		if ref == nil {
			first[k] = s
			continue
		}
		switch {
		case s.External && ref.Body != nil || s.Body != nil && ref.External:
			c.errorf(s.NamePos, s.Name, "", "%s %s is both defined in this file and declared external (at %s)", s.Kind, s.QualName(), synAt(ref.Pos))
		case s.Kind != ref.Kind:
			c.errorf(s.NamePos, s.Name, "", "%s is a %s here but a %s at %s", s.QualName(), s.Kind, ref.Kind, synAt(ref.Pos))
		case len(s.Params) != len(ref.Params):
			c.errorf(s.NamePos, s.Name, "", "%s %s has %s here but %d at %s", s.Kind, s.QualName(), synPlural(len(s.Params), "parameter"), len(ref.Params), synAt(ref.Pos))
		}
	}
}

func (c *synChecker) block(b *Block) {
	if b == nil {
		return
	}
	for _, s := range b.Stmts {
		c.stmt(s)
	}
}

func (c *synChecker) stmt(s Stmt) {
	switch x := s.(type) {
	case *Block:
		c.block(x)
	case *ReturnStmt:
		if x.Value != nil {
			if c.sec != nil && c.sec.Kind != FunctionSection {
				c.errorf(x.Pos, "return", "only a function returns a value; write return;", "return with a value in %s %s", c.sec.Kind, c.sec.QualName())
			}
			c.expr(x.Value)
		}
	case *VarStmt:
		for _, v := range x.Vars {
			if v.Init != nil {
				c.expr(v.Init)
			}
		}
	case *AssignStmt:
		c.expr(x.Target)
		c.expr(x.Value)
	case *CallStmt:
		c.call(x.Call, true)
	case *IfStmt:
		for _, cl := range x.Clauses {
			c.expr(cl.Cond)
			c.block(cl.Body)
		}
		c.block(x.Else)
	case *LoopStmt:
		c.block(x.Body)
	case *WhileStmt:
		c.expr(x.Cond)
		c.block(x.Body)
	case *ExitIfStmt:
		c.expr(x.Cond)
	case *ForStmt:
		if x.Init != nil {
			c.stmt(x.Init)
		}
		if x.Cond != nil {
			c.expr(x.Cond)
		}
		if x.Step != nil {
			c.stmt(x.Step)
		}
		c.block(x.Body)
	}
}

func (c *synChecker) expr(e Expr) {
	switch x := e.(type) {
	case *UnaryExpr:
		c.expr(x.X)
	case *BinaryExpr:
		c.expr(x.X)
		c.expr(x.Y)
	case *CondExpr:
		c.expr(x.Cond)
		c.expr(x.Then)
		c.expr(x.Else)
	case *IndexExpr:
		c.expr(x.X)
		c.expr(x.Index)
	case *MemberExpr:
		c.expr(x.X)
	case *KeyExpr:
		c.expr(x.X)
		c.expr(x.Key)
	case *CallExpr, *MethodCall, *SpawnExpr:
		c.call(x, false)
	}
}

// call checks one call; stmt tells whether its value is discarded.
func (c *synChecker) call(e Expr, stmt bool) {
	var (
		pos         Pos
		name, lname string
		nargs       int
		qualified   bool
	)
	switch x := e.(type) {
	case *CallExpr:
		for _, a := range x.Args {
			c.expr(a)
		}
		pos, nargs = x.Pos, len(x.Args)
		name, lname = x.Name, x.LName
		if x.LModule != "" {
			name, lname, qualified = x.Module+"::"+x.Name, x.LModule+"::"+x.LName, true
		}
	case *MethodCall:
		c.expr(x.Recv)
		for _, a := range x.Args {
			c.expr(a)
		}
		pos, nargs = x.Pos, len(x.Args)+1
		name, lname = x.Name, x.LName
	case *SpawnExpr:
		for _, a := range x.Args {
			c.expr(a)
		}
		sec := c.prog.Lookup(x.LName)
		switch {
		case x.LName == "":
		case sec == nil:
			c.errorf(x.NamePos, x.Name, "", "spawn of unknown entry %s", x.Name)
		case sec.Kind != EntrySection:
			c.errorf(x.NamePos, x.Name, "", "spawn needs an entry; %s is a %s", x.Name, sec.Kind)
		case len(x.Args) > 1:
			c.errorf(x.NamePos, x.Name, "", "spawn passes at most one parameter, got %d", len(x.Args))
		}
		return
	default:
		c.expr(e)
		return
	}
	if lname == "" {
		return // a syntax error, already reported
	}
	if sec := c.prog.Lookup(lname); sec != nil {
		switch {
		case sec.Kind == EntrySection:
			c.errorf(pos, name, "an entry is where a task starts; call a procedure instead, or spawn the entry", "entry %s cannot be called", name)
		case sec.Kind == ProcedureSection && !stmt:
			c.errorf(pos, name, "a procedure returns no value: call it as a statement, or make it a function", "procedure %s used in an expression", name)
		case nargs != len(sec.Params):
			c.errorf(pos, name, "", "%s %s takes %s, got %d", sec.Kind, sec.QualName(), synPlural(len(sec.Params), "argument"), nargs)
		}
		return
	}
	if qualified {
		c.errorf(pos, name, fmt.Sprintf("declare it first, e.g. procedure %s(...) external;", name), "unknown %s", name)
		return
	}
	if c.known != nil {
		if lo, hi, ok := c.known(lname); ok {
			switch {
			case nargs < lo && lo == hi, nargs > hi && hi >= 0 && lo == hi:
				c.errorf(pos, name, "", "%s takes %s, got %d", name, synPlural(lo, "argument"), nargs)
			case nargs < lo && hi < 0:
				c.errorf(pos, name, "", "%s takes at least %s, got %d", name, synPlural(lo, "argument"), nargs)
			case nargs < lo || hi >= 0 && nargs > hi:
				c.errorf(pos, name, "", "%s takes %d to %d arguments, got %d", name, lo, hi, nargs)
			}
			return
		}
	}
	kind := "function"
	if stmt {
		kind = "procedure"
	}
	if _, ok := e.(*MethodCall); ok {
		c.errorf(pos, name, fmt.Sprintf("x.%s(...) calls %s(x, ...)", name, name), "unknown function %s", name)
		return
	}
	c.errorf(pos, name, "", "unknown %s %s", kind, name)
}

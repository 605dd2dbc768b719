package cgpl

import "strings"

// TokenKind is the kind of a lexical token.
type TokenKind uint8

// Token kinds.
const (
	TokEOF     TokenKind = iota
	TokIllegal           // a character or literal the lexer rejected (already reported)
	TokName              // identifier
	TokNumber            // decimal integer literal
	TokString            // string literal

	// Keywords (case-insensitive), TokAnd to TokWhile.
	TokAnd
	TokBy
	TokElif
	TokElse
	TokEnd
	TokEntry
	TokExitif
	TokExternal
	TokFalse
	TokFor
	TokForward
	TokFunction
	TokIf
	TokIs
	TokNot
	TokLoop
	TokNull
	TokOr
	TokProcedure
	TokReturn
	TokSpawn
	TokStop
	TokThen
	TokTrue
	TokVar
	TokXor
	TokWhile
	keywordLast

	// Operators and signs.
	TokPlus       // +
	TokMinus      // -
	TokStar       // *
	TokSlash      // /
	TokPercent    // %
	TokPlusEq     // +=
	TokMinusEq    // -=
	TokStarEq     // *=
	TokSlashEq    // /=
	TokPercentEq  // %=
	TokAmpEq      // &=
	TokPipeEq     // |=
	TokCaretEq    // ^=
	TokAssign     // =
	TokEq         // ==
	TokNe         // !=
	TokBang       // !
	TokLt         // <
	TokLe         // <=
	TokGt         // >
	TokGe         // >=
	TokAmp        // &
	TokPipe       // |
	TokCaret      // ^
	TokQuestion   // ?
	TokColon      // :
	TokSemi       // ;
	TokComma      // ,
	TokDot        // .
	TokLParen     // (
	TokRParen     // )
	TokLBrack     // [
	TokRBrack     // ]
	TokLBrace     // {
	TokRBrace     // }
	TokColonColon // ::
	tokCount
)

var synTokenNames = [tokCount]string{
	TokEOF:        "end of file",
	TokIllegal:    "illegal token",
	TokName:       "name",
	TokNumber:     "number",
	TokString:     "string",
	TokAnd:        "and",
	TokBy:         "by",
	TokElif:       "elif",
	TokElse:       "else",
	TokEnd:        "end",
	TokEntry:      "entry",
	TokExitif:     "exitif",
	TokExternal:   "external",
	TokFalse:      "false",
	TokFor:        "for",
	TokForward:    "forward",
	TokFunction:   "function",
	TokIf:         "if",
	TokIs:         "is",
	TokNot:        "not",
	TokLoop:       "loop",
	TokNull:       "null",
	TokOr:         "or",
	TokProcedure:  "procedure",
	TokReturn:     "return",
	TokSpawn:      "spawn",
	TokStop:       "stop",
	TokThen:       "then",
	TokTrue:       "true",
	TokVar:        "var",
	TokXor:        "xor",
	TokWhile:      "while",
	TokPlus:       "+",
	TokMinus:      "-",
	TokStar:       "*",
	TokSlash:      "/",
	TokPercent:    "%",
	TokPlusEq:     "+=",
	TokMinusEq:    "-=",
	TokStarEq:     "*=",
	TokSlashEq:    "/=",
	TokPercentEq:  "%=",
	TokAmpEq:      "&=",
	TokPipeEq:     "|=",
	TokCaretEq:    "^=",
	TokAssign:     "=",
	TokEq:         "==",
	TokNe:         "!=",
	TokBang:       "!",
	TokLt:         "<",
	TokLe:         "<=",
	TokGt:         ">",
	TokGe:         ">=",
	TokAmp:        "&",
	TokPipe:       "|",
	TokCaret:      "^",
	TokQuestion:   "?",
	TokColon:      ":",
	TokSemi:       ";",
	TokComma:      ",",
	TokDot:        ".",
	TokLParen:     "(",
	TokRParen:     ")",
	TokLBrack:     "[",
	TokRBrack:     "]",
	TokLBrace:     "{",
	TokRBrace:     "}",
	TokColonColon: "::",
}

// String is the keyword or sign itself, or a description ("name", "end of file").
func (k TokenKind) String() string {
	if k < tokCount && synTokenNames[k] != "" {
		return synTokenNames[k]
	}
	return "token?"
}

// IsKeyword reports whether k is a reserved word.
func (k TokenKind) IsKeyword() bool { return k >= TokAnd && k < keywordLast }

// IsAssignOp reports whether k is "=" or a compound assignment ("+=" ...).
func (k TokenKind) IsAssignOp() bool {
	return k == TokAssign || (k >= TokPlusEq && k <= TokCaretEq)
}

// BinaryOf returns the binary operator of a compound assignment ("+=" gives
// "+"), or TokIllegal.
func (k TokenKind) BinaryOf() TokenKind {
	switch k {
	case TokPlusEq:
		return TokPlus
	case TokMinusEq:
		return TokMinus
	case TokStarEq:
		return TokStar
	case TokSlashEq:
		return TokSlash
	case TokPercentEq:
		return TokPercent
	case TokAmpEq:
		return TokAmp
	case TokPipeEq:
		return TokPipe
	case TokCaretEq:
		return TokCaret
	}
	return TokIllegal
}

var synKeywords = func() map[string]TokenKind {
	m := make(map[string]TokenKind, keywordLast-TokAnd)
	for k := TokAnd; k < keywordLast; k++ {
		m[synTokenNames[k]] = k
	}
	return m
}()

// LookupKeyword returns the keyword kind of name (any case), or TokName.
func LookupKeyword(name string) TokenKind {
	if len(name) < 2 || len(name) > 9 {
		return TokName
	}
	if k, ok := synKeywords[strings.ToLower(name)]; ok {
		return k
	}
	return TokName
}

// Token is one lexical token.
type Token struct {
	Kind TokenKind
	Pos  Pos
	// Text is the token's source text, exactly as written.
	Text string
	// Str is the decoded value of a string literal.
	Str string
	// Num is the value of a number literal.
	Num int64
}

// String describes the token for messages: the keyword or sign, the name,
// the literal as written, or "end of file".
func (t Token) String() string {
	if t.Kind == TokEOF {
		return "end of file"
	}
	return synTokenText(t.Text)
}

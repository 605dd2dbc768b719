package cgpl

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Tokenize splits src into tokens, ending with one TokEOF token. Errors
// (unterminated strings and comments, bad escapes, malformed numbers,
// unexpected characters, invalid UTF-8) are returned sorted; the lexer
// carries on after each: an unexpected character is skipped, a bad literal
// still yields a token.
func Tokenize(filename string, src []byte) ([]Token, ErrorList) {
	lx := srcLexer{file: filename, src: src, line: 1, col: 1}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		lx.off = 3 // byte order mark
	}
	toks := make([]Token, 0, len(src)/4+1)
	for {
		t := lx.next()
		toks = append(toks, t)
		if t.Kind == TokEOF {
			break
		}
	}
	lx.errs.Sort()
	return toks, lx.errs
}

// srcLexer turns source bytes into tokens.
type srcLexer struct {
	file      string
	src       []byte
	off       int // byte offset of the next character
	line, col int // position of the next character
	errs      ErrorList
}

// synMaxLexErrors bounds the errors one file can produce in the lexer.
const synMaxLexErrors = 50

func (lx *srcLexer) pos() Pos { return Pos{File: lx.file, Line: lx.line, Col: lx.col} }

func (lx *srcLexer) errorf(pos Pos, tok, hint, format string, args ...any) {
	if len(lx.errs) >= synMaxLexErrors {
		return
	}
	lx.errs = append(lx.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Token: synTokenText(tok), Hint: hint})
}

// peekByte returns the byte at off+i, or 0 past the end.
func (lx *srcLexer) peekByte(i int) byte {
	if lx.off+i < len(lx.src) {
		return lx.src[lx.off+i]
	}
	return 0
}

// advance consumes one character (a rune, or one byte of invalid UTF-8)
// and returns it (utf8.RuneError for invalid bytes) with its byte size.
func (lx *srcLexer) advance() (rune, int) {
	c := lx.src[lx.off]
	if c < utf8.RuneSelf {
		lx.off++
		if c == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
		return rune(c), 1
	}
	r, n := utf8.DecodeRune(lx.src[lx.off:])
	lx.off += n
	lx.col++
	return r, n
}

// skipSpace skips white space and comments.
func (lx *srcLexer) skipSpace() {
	for lx.off < len(lx.src) {
		switch c := lx.src[lx.off]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.advance()
		case c == '/' && lx.peekByte(1) == '/':
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.advance()
			}
		case c == '/' && lx.peekByte(1) == '*':
			start := lx.pos()
			lx.advance()
			lx.advance()
			for {
				if lx.off >= len(lx.src) {
					lx.errorf(start, "/*", "block comments do not nest; close it with */", "unterminated comment")
					return
				}
				if lx.src[lx.off] == '*' && lx.peekByte(1) == '/' {
					lx.advance()
					lx.advance()
					break
				}
				lx.advance()
			}
		case c >= utf8.RuneSelf:
			r, _ := utf8.DecodeRune(lx.src[lx.off:])
			if r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
				lx.advance()
				continue
			}
			return
		default:
			return
		}
	}
}

func synIsLetter(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r >= utf8.RuneSelf && unicode.IsLetter(r)
}

func synIsDigit(r rune) bool { return '0' <= r && r <= '9' }

// synTwoCharOps maps a sign to its two-character forms by second character.
var synTwoCharOps = map[byte]map[byte]TokenKind{
	'+': {'=': TokPlusEq},
	'-': {'=': TokMinusEq},
	'*': {'=': TokStarEq},
	'/': {'=': TokSlashEq},
	'%': {'=': TokPercentEq},
	'&': {'=': TokAmpEq},
	'|': {'=': TokPipeEq},
	'^': {'=': TokCaretEq},
	'=': {'=': TokEq},
	'!': {'=': TokNe},
	'<': {'=': TokLe},
	'>': {'=': TokGe},
	':': {':': TokColonColon},
}

var synOneCharOps = [128]TokenKind{
	'+': TokPlus, '-': TokMinus, '*': TokStar, '/': TokSlash, '%': TokPercent,
	'=': TokAssign, '!': TokBang, '<': TokLt, '>': TokGt,
	'&': TokAmp, '|': TokPipe, '^': TokCaret, '?': TokQuestion, ':': TokColon,
	';': TokSemi, ',': TokComma, '.': TokDot,
	'(': TokLParen, ')': TokRParen, '[': TokLBrack, ']': TokRBrack, '{': TokLBrace, '}': TokRBrace,
}

// next scans the next token.
func (lx *srcLexer) next() Token {
	for {
		lx.skipSpace()
		pos := lx.pos()
		start := lx.off
		if lx.off >= len(lx.src) {
			return Token{Kind: TokEOF, Pos: pos}
		}
		c := lx.src[lx.off]
		r := rune(c)
		if c >= utf8.RuneSelf {
			r, _ = utf8.DecodeRune(lx.src[lx.off:])
		}
		switch {
		case synIsLetter(r):
			for lx.off < len(lx.src) {
				r, _ := utf8.DecodeRune(lx.src[lx.off:])
				if !synIsLetter(r) && !synIsDigit(r) && r != '_' {
					break
				}
				lx.advance()
			}
			text := string(lx.src[start:lx.off])
			return Token{Kind: LookupKeyword(text), Pos: pos, Text: text}
		case synIsDigit(r):
			return lx.number(pos, start)
		case c == '"':
			return lx.string(pos, start)
		case c < utf8.RuneSelf && synOneCharOps[c] != 0:
			lx.advance()
			kind := synOneCharOps[c]
			if k, ok := synTwoCharOps[c][lx.peekByte(0)]; ok && lx.off < len(lx.src) {
				lx.advance()
				kind = k
			}
			return Token{Kind: kind, Pos: pos, Text: string(lx.src[start:lx.off])}
		}
		// Not a token: report it, skip it, carry on.
		r, n := lx.advance()
		switch {
		case r == utf8.RuneError && n == 1:
			lx.errorf(pos, "", "", "invalid UTF-8 byte 0x%02x", lx.src[start])
		case r == '\'':
			lx.errorf(pos, "'", "string literals use double quotes", "unexpected character %q", r)
		default:
			lx.errorf(pos, string(r), "", "unexpected character %q (U+%04X)", r, r)
		}
	}
}

// number scans a decimal integer literal. Letters or "_" glued to the digits
// make it malformed (reported once, value 0).
func (lx *srcLexer) number(pos Pos, start int) Token {
	bad := false
	for lx.off < len(lx.src) {
		r, _ := utf8.DecodeRune(lx.src[lx.off:])
		if synIsDigit(r) {
			lx.advance()
			continue
		}
		if synIsLetter(r) || r == '_' {
			bad = true
			lx.advance()
			continue
		}
		break
	}
	text := string(lx.src[start:lx.off])
	t := Token{Kind: TokNumber, Pos: pos, Text: text}
	if bad {
		lx.errorf(pos, text, "numbers are decimal integers; a name cannot start with a digit", "malformed number %s", synTokenText(text))
		return t
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		lx.errorf(pos, text, "the largest number is 9223372036854775807", "number %s is out of range", synTokenText(text))
		return t
	}
	t.Num = n
	return t
}

// string scans a string literal and decodes its escapes. An unterminated
// literal ends at the end of the line.
func (lx *srcLexer) string(pos Pos, start int) Token {
	lx.advance() // opening quote
	var buf []byte
	for {
		if lx.off >= len(lx.src) || lx.src[lx.off] == '\n' || lx.src[lx.off] == '\r' {
			lx.errorf(pos, string(lx.src[start:lx.off]), "a string literal must end on the line where it starts; write \\n or \\e for a line break", "unterminated string literal")
			break
		}
		c := lx.src[lx.off]
		if c == '"' {
			lx.advance()
			break
		}
		if c != '\\' {
			r, n := lx.advance()
			if r == utf8.RuneError && n == 1 {
				lx.errorf(Pos{lx.file, lx.line, lx.col - 1}, "", "", "invalid UTF-8 byte 0x%02x in string literal", c)
			}
			buf = append(buf, lx.src[lx.off-n:lx.off]...)
			continue
		}
		epos, eoff := lx.pos(), lx.off
		lx.advance() // backslash
		if lx.off >= len(lx.src) || lx.src[lx.off] == '\n' || lx.src[lx.off] == '\r' {
			continue // reported as unterminated
		}
		e := lx.src[lx.off]
		switch e {
		case '"', '\\':
			buf = append(buf, e)
			lx.advance()
		case 'n', 'e':
			buf = append(buf, '\n')
			lx.advance()
		case 'r':
			buf = append(buf, '\r')
			lx.advance()
		case 't':
			buf = append(buf, '\t')
			lx.advance()
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			v, i := 0, 0
			for ; i < 3 && synIsDigit(rune(lx.peekByte(0))) && lx.off < len(lx.src); i++ {
				v = v*10 + int(lx.src[lx.off]-'0')
				lx.advance()
			}
			if i < 3 || v > 255 {
				lx.errorf(epos, string(lx.src[eoff:lx.off]), "a numeric escape is \\ and exactly three decimal digits, 000 to 255", "invalid escape sequence")
				continue
			}
			buf = append(buf, byte(v))
		default:
			r, _ := lx.advance()
			lx.errorf(epos, `\`+string(r), `the escapes are \" \\ \r \n \t \e and \nnn (three decimal digits)`, "unknown escape sequence")
			buf = utf8.AppendRune(buf, r)
		}
	}
	return Token{Kind: TokString, Pos: pos, Text: string(lx.src[start:lx.off]), Str: string(buf)}
}

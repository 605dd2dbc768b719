package postgres

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"golang.org/x/text/unicode/norm"
)

// Words are cut and folded here rather than by to_tsvector (see the package
// doc): a word is a run of letters and digits, case-folded, with diacritics
// removed from Latin letters and ё folded to е, as the SQLite engine's
// unicode61 tokenizer and its ё folding do.

// maxLexeme is PostgreSQL's limit on one lexeme (in bytes); longer words are
// not indexed.
const maxLexeme = 2046

// maxBody bounds the words indexed for one record (a tsvector holds at most
// 1 MiB of lexemes); words past it are not indexed.
const maxBody = 256 << 10

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// foldRune lower-cases r, folds ё to е and removes a Latin letter's diacritics.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	switch {
	case r < utf8.RuneSelf:
		return r
	case r == 'ё':
		return 'е'
	case unicode.Is(unicode.Latin, r):
		// The first rune of the canonical decomposition is the base letter.
		if d := norm.NFD.String(string(r)); d != "" {
			b, _ := utf8.DecodeRuneInString(d)
			return b
		}
	}
	return r
}

// words returns the folded words of s in order.
func words(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 && b.Len() <= maxLexeme {
			out = append(out, b.String())
		}
		b.Reset()
	}
	for _, r := range s {
		if isWordRune(r) {
			b.WriteRune(foldRune(r))
		} else {
			flush()
		}
	}
	flush()
	return out
}

// lexeme quotes w for tsvector and tsquery input.
func lexeme(w string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), "'", "''") + "'"
}

// bodyOf is the tsvector, in its text form (each word with its position),
// of the words of r.Searchable(): each word once, in order of first
// appearance, and no word made of digits only (numbers are the digits
// column's, and a query made of digits is a fragment, never a word).
func bodyOf(r *cdr.Record) string {
	var b strings.Builder
	seen := map[string]bool{}
	pos, size := 0, 0
	for _, s := range r.Searchable() {
		for _, w := range words(s) {
			if seen[w] || cdr.Digits(w) == w {
				continue
			}
			seen[w] = true
			if size += len(w); size > maxBody {
				return b.String()
			}
			pos++
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(lexeme(w))
			b.WriteByte(':')
			// Positions stop at 16383; later words share the last one.
			b.WriteString(strconv.Itoa(min(pos, 16383)))
		}
	}
	return b.String()
}

// tsquery is the query of a text term: its words as a phrase, the last one
// a prefix ("john smi" finds "John Smith"). ok is false when the term has
// no words, and so matches nothing.
func tsquery(term string) (q string, ok bool) {
	ws := words(term)
	if len(ws) == 0 {
		return "", false
	}
	for i := range ws {
		ws[i] = lexeme(ws[i])
	}
	return strings.Join(ws, " <-> ") + ":*", true
}

// clean makes s storable in a text column: PostgreSQL text holds neither
// NUL nor invalid UTF-8.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

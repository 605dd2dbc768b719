package sqlite

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold maps ё to е, as Russian text is commonly written both ways;
// unicode61's remove_diacritics covers Latin letters only.
var fold = strings.NewReplacer("ё", "е", "Ё", "Е")

// textOf is what rec_text's body column indexes for r: every searchable
// word once, lower-cased, without the numbers (rec_digits has them: a query
// made of digits is a digit fragment, never a word) and without what an
// address repeats. words are the same words, for the vocabulary.
func textOf(r *cdr.Record) (body string, words []string) {
	for _, s := range r.Searchable() {
		if strings.Contains(s, "ё") || strings.Contains(s, "Ё") {
			s = fold.Replace(s)
		}
		words = appendTokens(words, s)
	}
	return strings.Join(words, " "), words
}

// tokens splits s into lower-case words the way FTS5's unicode61 tokenizer
// does (letters and digits are word characters), leaving out words made of
// digits only.
func tokens(s string) []string { return appendTokens(nil, s) }

// appendTokens appends the words of s (as tokens gives them) that out does
// not hold yet. Every record's text goes through it: it scans bytes and
// decodes runes only outside ASCII.
func appendTokens(out []string, s string) []string {
	start, digits := -1, true
	flush := func(end int) {
		if start >= 0 && !digits {
			w := strings.ToLower(s[start:end])
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
		start, digits = -1, true
	}
	for i := 0; i < len(s); {
		c := s[i]
		var word, digit bool
		size := 1
		if c < utf8.RuneSelf {
			digit = c >= '0' && c <= '9'
			word = digit || (c|0x20 >= 'a' && c|0x20 <= 'z')
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			word = unicode.IsLetter(r) || unicode.IsNumber(r)
			digit = false
		}
		switch {
		case !word:
			flush(i)
		case start < 0:
			start, digits = i, digit
		default:
			digits = digits && digit
		}
		i += size
	}
	flush(len(s))
	return out
}

// foldWord is the vocabulary's lookup form of a word: lower case without
// diacritics, so that "jose" finds "José" (FTS5 folds Latin diacritics the
// same way) and "иван" finds "йван" (a lookup may find more words than FTS5
// would; each is then matched exactly by FTS5 itself).
func foldWord(w string) string {
	out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), strings.ToLower(fold.Replace(w)))
	if err != nil {
		return strings.ToLower(w)
	}
	return out
}

// Exact-match keys (account:, var:, tag:) are single tokens in rec_text's
// keys column: a kind letter and the value in hex, which unicode61 keeps as
// one token, so "account:u100" cannot match "u1000" or a word of a name.
// FTS5 writes them as a log-structured index: a B-tree per key kind would
// take a random page write per record once it outgrows the cache.
const (
	keyAccount = 'a'
	keyVar     = 'v'
	keyTag     = 't'
	keyDomain  = 'd'
)

func keyToken(kind byte, s string) string {
	if len(s) > 64 {
		sum := sha256.Sum256([]byte(s))
		s = string(sum[:16])
	}
	return string(kind) + hex.EncodeToString([]byte(s))
}

func varKey(name, value string) string { return name + "\x00" + value }

// keysOf is what rec_text's keys column holds for r.
func keysOf(r *cdr.Record) string {
	var keys []string
	add := func(k string) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, a := range []string{r.Caller.Account, r.Callee.Account} {
		if a != "" {
			add(keyToken(keyAccount, a))
		}
	}
	for k, v := range r.Variables {
		add(keyToken(keyVar, varKey(k, v)))
	}
	for _, t := range r.Tags {
		add(keyToken(keyTag, t))
	}
	add(keyToken(keyDomain, r.Domain))
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

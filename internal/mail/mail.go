// Package mail builds e-mail messages (RFC 5322 with MIME) and submits them
// to an SMTP relay: what CG/PL's SendEMail and SubmitEMail send, such as a
// number to call back or a voicemail recording.
//
// The SMTP client is github.com/emersion/go-smtp: the standard library's
// net/smtp is frozen (no context, no per-command timeouts, no new
// extensions), while go-smtp is maintained, and its server is what the
// tests submit to. Messages are composed with the standard library's mime
// and net/mail packages, which are maintained and cover what a message
// needs (RFC 2047 encoded words, RFC 2231 file names, address lists), so
// go-message would only add a dependency.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is an e-mail to send.
type Message struct {
	// From is the author, an address with or without a display name
	// ("Иван Иванов <ivanov@example.com>"); empty takes the Sender's
	// default. Its address is the envelope sender too.
	From string
	// To, Cc and Bcc each hold addresses or comma-separated lists of them;
	// Bcc recipients get the message but are not listed in it.
	To, Cc, Bcc []string
	Subject     string
	// Date is the time of writing; zero means the time of sending.
	Date time.Time
	// MessageID is the Message-ID, with or without angle brackets; empty
	// generates one.
	MessageID string
	// Header holds further fields (Reply-To, X-Priority, ...), in order.
	// Fields that describe the content (Content-*, MIME-Version) are
	// taken from Body instead.
	Header []Field
	// Body is the content: one part, or a multipart part holding others.
	Body Part
}

// Field is one header field. Values are text: non-ASCII is encoded on the
// way out (RFC 2047); a line break is an error.
type Field struct {
	Name, Value string
}

// Part is a MIME entity: the whole body, an attachment, or a multipart
// container of further parts.
type Part struct {
	// ContentType is the media type with any parameters ("audio/wav",
	// "text/html; charset=utf-8"). Empty means text/plain, or
	// multipart/mixed when Parts is set; text gets charset=utf-8 unless it
	// names one.
	ContentType string
	// Filename names an attachment; a part with one is an attachment
	// unless Disposition says otherwise.
	Filename string
	// Disposition is "inline" or "attachment"; empty decides by Filename.
	Disposition string
	// Header holds further fields of the part (Content-ID,
	// Content-Description).
	Header []Field
	// Data is the content of a single part.
	Data []byte
	// Parts makes a multipart part; Data is then unused.
	Parts []Part
}

// Text is a plain-text part in UTF-8.
func Text(s string) Part { return Part{ContentType: "text/plain; charset=utf-8", Data: []byte(s)} }

// Attachment is a file attached under filename.
func Attachment(filename, contentType string, data []byte) Part {
	return Part{ContentType: contentType, Filename: filename, Disposition: "attachment", Data: data}
}

// Mixed is a multipart/mixed part: typically a text and attachments.
func Mixed(parts ...Part) Part { return Part{ContentType: "multipart/mixed", Parts: parts} }

// ErrInvalid marks a message that cannot be sent as it is.
var ErrInvalid = errors.New("invalid message")

// maxDepth bounds multipart nesting, which a program builds from arrays.
const maxDepth = 8

// envelope is the SMTP transaction's sender and recipients.
type envelope struct {
	from string
	to   []string
}

// Compose renders m as an RFC 5322 message with CRLF line ends, filling
// in Date and Message-ID when m has none.
func Compose(m Message) ([]byte, error) {
	raw, _, err := compose(m, time.Now())
	return raw, err
}

func compose(m Message, now time.Time) ([]byte, envelope, error) {
	var env envelope
	if strings.TrimSpace(m.From) == "" {
		return nil, env, fmt.Errorf("%w: no sender (From)", ErrInvalid)
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, env, fmt.Errorf("%w: From %q: %v", ErrInvalid, m.From, err)
	}
	to, err := addresses("To", m.To)
	if err != nil {
		return nil, env, err
	}
	cc, err := addresses("Cc", m.Cc)
	if err != nil {
		return nil, env, err
	}
	bcc, err := addresses("Bcc", m.Bcc)
	if err != nil {
		return nil, env, err
	}
	env.from = from.Address
	seen := map[string]bool{}
	for _, list := range [][]*mail.Address{to, cc, bcc} {
		for _, a := range list {
			if k := strings.ToLower(a.Address); !seen[k] {
				seen[k] = true
				env.to = append(env.to, a.Address)
			}
		}
	}
	if len(env.to) == 0 {
		return nil, env, fmt.Errorf("%w: no recipient (To, Cc or Bcc)", ErrInvalid)
	}

	var b bytes.Buffer
	h := &headerWriter{b: &b}
	date := m.Date
	if date.IsZero() {
		date = now
	}
	h.raw("Date", date.Format(time.RFC1123Z))
	h.raw("From", from.String())
	if len(to) > 0 {
		h.raw("To", addressList(to))
	}
	if len(cc) > 0 {
		h.raw("Cc", addressList(cc))
	}
	if m.Subject != "" {
		h.text("Subject", m.Subject)
	}
	id := strings.TrimSpace(m.MessageID)
	if id == "" {
		id = randomHex(16) + "@" + domainOf(from.Address)
	}
	if !strings.HasPrefix(id, "<") {
		id = "<" + id + ">"
	}
	h.raw("Message-ID", id)
	for _, f := range m.Header {
		if structural(f.Name) {
			continue
		}
		if isAddressField(f.Name) {
			list, err := addresses(f.Name, []string{f.Value})
			if err != nil {
				return nil, env, err
			}
			if len(list) > 0 {
				h.raw(f.Name, addressList(list))
			}
			continue
		}
		h.text(f.Name, f.Value)
	}
	h.raw("MIME-Version", "1.0")
	if err := writePart(&b, h, m.Body, 0); err != nil {
		return nil, env, err
	}
	if h.err != nil {
		return nil, env, h.err
	}
	return b.Bytes(), env, nil
}

// addresses parses each entry as an address list.
func addresses(field string, entries []string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			continue
		}
		list, err := mail.ParseAddressList(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %s address %q: %v", ErrInvalid, field, e, err)
		}
		out = append(out, list...)
	}
	return out, nil
}

func addressList(list []*mail.Address) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func isAddressField(name string) bool {
	switch strings.ToLower(name) {
	case "reply-to", "sender", "return-receipt-to", "disposition-notification-to":
		return true
	}
	return false
}

// structural fields describe the MIME structure, which the body decides;
// the addressing fields come from Message's own fields.
func structural(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "mime-version", "from", "to", "cc", "bcc", "subject", "date", "message-id":
		return true
	}
	return strings.HasPrefix(n, "content-")
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// headerWriter writes header fields, folding long ones; the first problem
// is kept in err.
type headerWriter struct {
	b   *bytes.Buffer
	err error
}

// text writes an unstructured field, encoding non-ASCII as RFC 2047 words.
func (h *headerWriter) text(name, value string) {
	if strings.ContainsAny(value, "\r\n") {
		h.fail(fmt.Errorf("%w: line break in the %s header", ErrInvalid, name))
		return
	}
	if needsEncoding(value) {
		if !utf8.ValidString(value) {
			h.fail(fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, name))
			return
		}
		value = encodeWords(value, foldAt-len(name)-2)
	}
	h.raw(name, value)
}

// encodeWords encodes s as RFC 2047 "B" words (shorter than "Q" for
// Cyrillic and other non-Latin text) separated by spaces, the first at
// most first characters long and the others at most foldAt-1, so that
// folding at the spaces keeps every line within foldAt (RFC 2047 §2).
func encodeWords(s string, first int) string {
	const prefix, suffix = "=?utf-8?b?", "?="
	wordLen := func(n int) int { return len(prefix) + (n+2)/3*4 + len(suffix) }
	var words []string
	limit := max(first, wordLen(4)) // a word holds at least one rune
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n > 0 && wordLen(n+size) > limit {
				break
			}
			n += size
		}
		words = append(words, prefix+base64.StdEncoding.EncodeToString([]byte(s[:n]))+suffix)
		s, limit = s[n:], foldAt-1
	}
	return strings.Join(words, " ")
}

func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || (s[i] < ' ' && s[i] != '\t') {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// Lines are folded at spaces to stay within 76 characters where a space
// allows (RFC 5322 §2.1.1 asks for 78, RFC 2047 for 76 with encoded words),
// and may never pass 998.
const (
	foldAt      = 76
	maxLineSize = 998
)

// raw writes a field whose value is already in its wire form.
func (h *headerWriter) raw(name, value string) {
	if h.err != nil {
		return
	}
	if !validFieldName(name) {
		h.fail(fmt.Errorf("%w: header field name %q", ErrInvalid, name))
		return
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		h.fail(fmt.Errorf("%w: line break in the %s header", ErrInvalid, name))
		return
	}
	line := name + ": " + value
	min := len(name) + 2 // never fold right after the colon
	for len(line) > foldAt {
		i := strings.LastIndexByte(line[:foldAt+1], ' ')
		if i < min {
			j := strings.IndexByte(line[foldAt:], ' ')
			if j < 0 {
				break
			}
			i = foldAt + j
		}
		h.b.WriteString(line[:i])
		h.b.WriteString("\r\n")
		line, min = line[i:], 1 // the space starts the continuation line
	}
	if len(line) > maxLineSize {
		h.fail(fmt.Errorf("%w: the %s header has a line of %d characters", ErrInvalid, name, len(line)))
		return
	}
	h.b.WriteString(line)
	h.b.WriteString("\r\n")
}

func (h *headerWriter) fail(err error) {
	if h.err == nil {
		h.err = err
	}
}

// validFieldName is RFC 5322's field-name: printable ASCII but the colon.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// writePart writes p's header fields through h, the blank line, and its
// content.
func writePart(b *bytes.Buffer, h *headerWriter, p Part, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: multipart nested deeper than %d", ErrInvalid, maxDepth)
	}
	ctype := strings.TrimSpace(p.ContentType)
	if ctype == "" {
		ctype = "text/plain"
		if len(p.Parts) > 0 {
			ctype = "multipart/mixed"
		}
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("%w: content type %q: %v", ErrInvalid, ctype, err)
	}
	multipart := strings.HasPrefix(mediaType, "multipart/")
	if multipart != (len(p.Parts) > 0) {
		return fmt.Errorf("%w: content type %s with %d parts", ErrInvalid, mediaType, len(p.Parts))
	}
	var body []byte
	cte := ""
	switch {
	case multipart:
		boundary := "=_" + randomHex(12) // "=_" occurs in neither base64 nor quoted-printable
		params["boundary"] = boundary
		var mb bytes.Buffer
		for _, sub := range p.Parts {
			mb.WriteString("--" + boundary + "\r\n")
			if err := writePart(&mb, &headerWriter{b: &mb}, sub, depth+1); err != nil {
				return err
			}
			mb.WriteString("\r\n")
		}
		mb.WriteString("--" + boundary + "--\r\n")
		body = mb.Bytes()
	case strings.HasPrefix(mediaType, "text/"):
		if params["charset"] == "" {
			params["charset"] = "utf-8"
		}
		cte, body = encodeText(p.Data)
	default:
		cte, body = "base64", encodeBase64(p.Data)
	}
	if p.Filename != "" && !multipart {
		params["name"] = p.Filename // for mail readers that ignore the disposition
	}
	h.raw("Content-Type", mime.FormatMediaType(mediaType, params))
	if cte != "" {
		h.raw("Content-Transfer-Encoding", cte)
	}
	disp := strings.ToLower(strings.TrimSpace(p.Disposition))
	if disp == "" && p.Filename != "" {
		disp = "attachment"
	}
	if disp != "" {
		dp := map[string]string{}
		if p.Filename != "" {
			dp["filename"] = p.Filename
		}
		v := mime.FormatMediaType(disp, dp)
		if v == "" {
			return fmt.Errorf("%w: disposition %q of %q", ErrInvalid, disp, p.Filename)
		}
		h.raw("Content-Disposition", v)
	}
	for _, f := range p.Header {
		n := strings.ToLower(f.Name)
		if n == "content-type" || n == "content-transfer-encoding" || n == "content-disposition" || n == "mime-version" {
			continue
		}
		h.text(f.Name, f.Value)
	}
	if h.err != nil {
		return h.err
	}
	b.WriteString("\r\n")
	b.Write(body)
	return nil
}

// encodeText normalises line ends to CRLF and picks the encoding: none for
// short-lined ASCII, quoted-printable for mostly ASCII, else base64.
func encodeText(data []byte) (cte string, out []byte) {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	crlf := strings.ReplaceAll(s, "\n", "\r\n")
	high, long := 0, false
	for _, line := range strings.Split(s, "\n") {
		if len(line) > maxLineSize {
			long = true
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c == 0 {
			high++
		}
	}
	switch {
	case high == 0 && !long:
		return "7bit", []byte(crlf)
	case high*3 > len(s):
		return "base64", encodeBase64([]byte(crlf))
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(crlf)) // a bytes.Buffer does not fail
	w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return "quoted-printable", b.Bytes()
}

// encodeBase64 writes data in lines of 76 characters (RFC 2045 §6.8).
func encodeBase64(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	out := make([]byte, 0, len(enc)+len(enc)/76*2+2)
	for len(enc) > 76 {
		out = append(out, enc[:76]...)
		out = append(out, "\r\n"...)
		enc = enc[76:]
	}
	if enc != "" {
		out = append(out, enc...)
		out = append(out, "\r\n"...)
	}
	return out
}

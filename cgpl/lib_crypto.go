package cgpl

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"fmt"
	"io"
	"strings"
)

// This file holds CryEncrypt and CryDecrypt. The vendor names the
// algorithms (RC4, DES3, AES…) but not the mode, padding or IV, so Ringo
// uses the usual construction (docs/cgpl.md, "Choices"): block ciphers in
// CBC mode with PKCS#7 padding and a random IV that is sent first, RC4 as
// the plain stream cipher.

// cryCipher is a CryEncrypt algorithm: a block cipher (block != nil) or a
// stream cipher.
type cryCipher struct {
	name    string
	keyLens []int // the key lengths it takes; nil: 1..256 bytes
	block   func(key []byte) (cipher.Block, error)
	stream  func(key []byte) (cipher.Stream, error)
}

// cryCiphers are the algorithms, by name upper-cased with "-", "_" and "/"
// removed (so "AES-CBC", "aes_256" and "Des3" work).
func cryCipherByName(name string) *cryCipher {
	n := strings.NewReplacer("-", "", "_", "", "/", "").Replace(strings.ToUpper(name))
	n = strings.TrimSuffix(n, "CBC")
	switch n {
	case "AES":
		return &cryCipher{name: "AES", keyLens: []int{16, 24, 32}, block: aes.NewCipher}
	case "AES128":
		return &cryCipher{name: "AES128", keyLens: []int{16}, block: aes.NewCipher}
	case "AES192":
		return &cryCipher{name: "AES192", keyLens: []int{24}, block: aes.NewCipher}
	case "AES256":
		return &cryCipher{name: "AES256", keyLens: []int{32}, block: aes.NewCipher}
	case "DES3", "3DES", "TRIPLEDES", "DESEDE", "DESEDE3", "DES3EDE":
		return &cryCipher{name: "DES3", keyLens: []int{16, 24}, block: func(k []byte) (cipher.Block, error) {
			if len(k) == 16 { // two-key 3DES: K1 K2 K1
				k = append(append([]byte(nil), k...), k[:8]...)
			}
			return des.NewTripleDESCipher(k)
		}}
	case "DES":
		return &cryCipher{name: "DES", keyLens: []int{8}, block: des.NewCipher}
	case "RC4", "ARCFOUR":
		return &cryCipher{name: "RC4", stream: func(k []byte) (cipher.Stream, error) { return rc4.NewCipher(k) }}
	}
	return nil
}

// cryArgs checks the arguments of CryEncrypt and CryDecrypt: nil cipher for
// an unknown algorithm.
func cryArgs(fn string, alg, key, data Value) (*cryCipher, []byte, []byte, error) {
	name, ok := alg.(String)
	if !ok {
		return nil, nil, nil, Throw("%s: the algorithm must be a string, not %s", fn, TypeName(alg))
	}
	k, ok := bytesOf(key)
	if !ok {
		return nil, nil, nil, Throw("%s: the key must be a datablock or a string, not %s", fn, TypeName(key))
	}
	d, ok := bytesOf(data)
	if !ok {
		return nil, nil, nil, Throw("%s: the data must be a datablock or a string, not %s", fn, TypeName(data))
	}
	c := cryCipherByName(string(name))
	if c == nil {
		return nil, nil, nil, nil
	}
	if err := c.checkKey(k); err != nil {
		return nil, nil, nil, Throw("%s: %v", fn, err)
	}
	return c, k, d, nil
}

func (c *cryCipher) checkKey(k []byte) error {
	if c.keyLens == nil {
		if len(k) < 1 || len(k) > 256 {
			return fmt.Errorf("%s needs a key of 1 to 256 bytes, not %d", c.name, len(k))
		}
		return nil
	}
	for _, n := range c.keyLens {
		if len(k) == n {
			return nil
		}
	}
	lens := fmt.Sprint(c.keyLens[0])
	for i, n := range c.keyLens[1:] {
		if i == len(c.keyLens)-2 {
			lens += " or "
		} else {
			lens += ", "
		}
		lens += fmt.Sprint(n)
	}
	return fmt.Errorf("%s needs a key of %s bytes, not %d", c.name, lens, len(k))
}

// CryEncrypt is CryEncrypt(alg, key, data): data (a datablock or a string)
// encrypted with key (a datablock or a string) as a datablock; null for an
// unknown algorithm. AES (16-, 24- or 32-byte key; AES128, AES192, AES256
// demand that size), DES3 (16 or 24 bytes) and DES (8 bytes) run in CBC
// mode with PKCS#7 padding, the random IV first in the result; RC4 (1-256
// bytes) is the stream cipher alone. A key of the wrong size, or an
// argument of the wrong type, raises.
func CryEncrypt(alg, key, data Value) (Value, error) {
	return cryEncrypt(alg, key, data, rand.Reader)
}

func cryEncrypt(alg, key, data Value, random io.Reader) (Value, error) {
	c, k, d, err := cryArgs("CryEncrypt", alg, key, data)
	if c == nil || err != nil {
		return nil, err
	}
	if c.stream != nil {
		s, err := c.stream(k)
		if err != nil {
			return nil, Throw("CryEncrypt: %v", err)
		}
		out := make(Data, len(d))
		s.XORKeyStream(out, d)
		return out, nil
	}
	b, err := c.block(k)
	if err != nil {
		return nil, Throw("CryEncrypt: %v", err)
	}
	n := b.BlockSize()
	pad := n - len(d)%n
	out := make(Data, n+len(d)+pad)
	if _, err := io.ReadFull(random, out[:n]); err != nil {
		return nil, Throw("CryEncrypt: no random IV: %v", err)
	}
	body := out[n:]
	copy(body, d)
	for i := len(d); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(b, out[:n]).CryptBlocks(body, body)
	return out, nil
}

// CryDecrypt is CryDecrypt(alg, key, data): the inverse of CryEncrypt.
// Data that cannot be what CryEncrypt made with this algorithm and key
// (too short, not whole blocks, bad padding, which a wrong key gives too)
// gives null, as does an unknown algorithm. RC4 cannot tell a wrong key: it
// gives other bytes.
func CryDecrypt(alg, key, data Value) (Value, error) {
	c, k, d, err := cryArgs("CryDecrypt", alg, key, data)
	if c == nil || err != nil {
		return nil, err
	}
	if c.stream != nil {
		s, err := c.stream(k)
		if err != nil {
			return nil, Throw("CryDecrypt: %v", err)
		}
		out := make(Data, len(d))
		s.XORKeyStream(out, d)
		return out, nil
	}
	b, err := c.block(k)
	if err != nil {
		return nil, Throw("CryDecrypt: %v", err)
	}
	n := b.BlockSize()
	if len(d) < 2*n || len(d)%n != 0 {
		return nil, nil
	}
	out := make(Data, len(d)-n)
	cipher.NewCBCDecrypter(b, d[:n]).CryptBlocks(out, d[n:])
	pad := int(out[len(out)-1])
	if pad < 1 || pad > n {
		return nil, nil
	}
	want := make([]byte, pad)
	for i := range want {
		want[i] = byte(pad)
	}
	if subtle.ConstantTimeCompare(out[len(out)-pad:], want) != 1 {
		return nil, nil
	}
	return out[:len(out)-pad], nil
}

func libCrypto() []Pure {
	return []Pure{
		{Name: "CryEncrypt", MinArgs: 3, MaxArgs: 3, Fn: func(a []Value) (Value, error) { return CryEncrypt(a[0], a[1], a[2]) }},
		{Name: "CryDecrypt", MinArgs: 3, MaxArgs: 3, Fn: func(a []Value) (Value, error) { return CryDecrypt(a[0], a[1], a[2]) }},
	}
}

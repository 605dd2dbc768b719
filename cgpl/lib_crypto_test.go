package cgpl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func ctHex(t *testing.T, s string) Data {
	t.Helper()
	d, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCryRoundTrip(t *testing.T) {
	msgs := []Value{String(""), String("a"), String("exactly 16 bytes"), String(strings.Repeat("x", 1000)), Data{0, 1, 2, 255}}
	cases := []struct {
		alg  string
		key  []byte
		over int // bytes the result adds to the data at most
	}{
		{"AES", bytes.Repeat([]byte{1}, 16), 32},
		{"aes", bytes.Repeat([]byte{2}, 24), 32},
		{"AES-CBC", bytes.Repeat([]byte{3}, 32), 32},
		{"AES128", bytes.Repeat([]byte{4}, 16), 32},
		{"aes_192", bytes.Repeat([]byte{5}, 24), 32},
		{"AES256", bytes.Repeat([]byte{6}, 32), 32},
		{"DES3", []byte("0123456789abcdefghijklmn"), 16},
		{"3DES", []byte("0123456789abcdef"), 16},
		{"DES", []byte("8bytekey"), 16},
		{"RC4", []byte("k"), 0},
		{"arcfour", bytes.Repeat([]byte{7}, 256), 0},
	}
	for _, c := range cases {
		for _, m := range msgs {
			e, err := CryEncrypt(String(c.alg), Data(c.key), m)
			if err != nil {
				t.Fatalf("%s: %v", c.alg, err)
			}
			ed, ok := e.(Data)
			mb, _ := bytesOf(m)
			if !ok || len(ed) < len(mb) || len(ed) > len(mb)+c.over {
				t.Fatalf("%s: %d bytes of ciphertext for %d", c.alg, len(ed), len(mb))
			}
			d, err := CryDecrypt(String(c.alg), String(c.key), e)
			if err != nil || !bytes.Equal(d.(Data), mb) {
				t.Errorf("%s: decrypt(encrypt(%q)) = %v, %v", c.alg, mb, d, err)
			}
		}
	}
}

// Known answers: NIST SP 800-38A F.2.1 (AES-128-CBC, first block; the
// padding block follows) and the RC4 vector of the cipher's description.
func TestCryKnownAnswers(t *testing.T) {
	key := ctHex(t, "2b7e151628aed2a6abf7158809cf4f3c")
	iv := ctHex(t, "000102030405060708090a0b0c0d0e0f")
	plain := ctHex(t, "6bc1bee22e409f96e93d7e117393172a")
	e, err := cryEncrypt(String("AES"), key, plain, bytes.NewReader(iv))
	if err != nil {
		t.Fatal(err)
	}
	ed := e.(Data)
	if !bytes.Equal(ed[:16], iv) || hex.EncodeToString(ed[16:32]) != "7649abac8119b246cee98e9b12e9197d" || len(ed) != 48 {
		t.Fatalf("AES-CBC = %x", ed)
	}
	r, _ := CryEncrypt(String("RC4"), String("Key"), String("Plaintext"))
	if got := strings.ToUpper(hex.EncodeToString(r.(Data))); got != "BBF316E8D940AF0AD3" {
		t.Fatalf("RC4 = %s", got)
	}
}

// Wrong keys and corrupt data give null, never a panic or garbage with a
// valid padding (for this fixed IV and key).
func TestCryDecryptFailures(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 16)
	iv := bytes.Repeat([]byte{1}, 16)
	e, err := cryEncrypt(String("AES"), Data(key), String("secret message"), bytes.NewReader(iv))
	if err != nil {
		t.Fatal(err)
	}
	ed := e.(Data)
	flip := func(i int) Data {
		c := append(Data(nil), ed...)
		c[i] ^= 0x80
		return c
	}
	bad := []struct {
		name     string
		key, msg Value
	}{
		{"wrong key", Data(bytes.Repeat([]byte{8}, 16)), ed},
		{"last byte changed", Data(key), flip(len(ed) - 1)},
		{"truncated to a block", Data(key), ed[:16]},
		{"not whole blocks", Data(key), ed[:len(ed)-1]},
		{"empty", Data(key), Data{}},
		{"IV only", Data(key), Data(iv)},
	}
	for _, b := range bad {
		got, err := CryDecrypt(String("AES"), b.key, b.msg)
		if got != nil || err != nil {
			t.Errorf("%s: %v, %v; want null", b.name, got, err)
		}
	}
	// Blocks that decrypt to a bad padding: a pad byte of 0, of 17, or pad
	// bytes that differ.
	b, _ := aes.NewCipher(key)
	for _, last := range [][]byte{{0}, {17}, {9, 2}, {1, 3, 3}} {
		plain := make([]byte, 16)
		copy(plain[16-len(last):], last)
		ct := make([]byte, 32)
		copy(ct, iv)
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct[16:], plain)
		if got, err := CryDecrypt(String("AES"), Data(key), Data(ct)); got != nil || err != nil {
			t.Errorf("padding %v: %v, %v; want null", last, got, err)
		}
	}
	ltRun(t, []ltCase{
		{fn: "CryEncrypt", args: []Value{String("ROT13"), String("k"), String("d")}, want: nil},
		{fn: "CryDecrypt", args: []Value{String("ROT13"), String("k"), String("d")}, want: nil},
		{fn: "CryEncrypt", args: []Value{Number(1), String("k"), String("d")}, exc: "CryEncrypt: the algorithm must be a string, not number"},
		{fn: "CryEncrypt", args: []Value{String("AES"), Number(1), String("d")}, exc: "the key must be a datablock or a string, not number"},
		{fn: "CryDecrypt", args: []Value{String("AES"), String("k"), nil}, exc: "CryDecrypt: the data must be a datablock or a string, not null"},
		{fn: "CryEncrypt", args: []Value{String("AES"), String("short"), String("d")}, exc: "AES needs a key of 16, 24 or 32 bytes, not 5"},
		{fn: "CryEncrypt", args: []Value{String("AES256"), Data(key), String("d")}, exc: "AES256 needs a key of 32 bytes, not 16"},
		{fn: "CryEncrypt", args: []Value{String("DES3"), String("k"), String("d")}, exc: "DES3 needs a key of 16 or 24 bytes, not 1"},
		{fn: "CryDecrypt", args: []Value{String("RC4"), String(""), String("d")}, exc: "RC4 needs a key of 1 to 256 bytes, not 0"},
	})
}

func TestCryEncryptNoRandom(t *testing.T) {
	_, err := cryEncrypt(String("AES"), Data(make([]byte, 16)), String("x"), bytes.NewReader(nil))
	var e *Exception
	if !errors.As(err, &e) || !strings.Contains(e.Msg, "no random IV") {
		t.Fatalf("err = %v", err)
	}
}

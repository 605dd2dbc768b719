package digest_test

import (
	"fmt"

	"github.com/ringo-pbx/ringo/internal/digest"
)

// A server keeps only HA1 = H(user:realm:password) and checks the response a
// client computed against it (RFC 2617 §3.5).
func Example() {
	ha1 := digest.HA1(digest.MD5, "Mufasa", "testrealm@host.com", "Circle Of Life")
	fmt.Println("HA1:", ha1)

	cred, err := digest.Parse(`Digest username="Mufasa", realm="testrealm@host.com", ` +
		`nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, ` +
		`nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("right password:", digest.Verify(cred, "GET", ha1))
	fmt.Println("wrong password:", digest.Verify(cred, "GET", digest.HA1(digest.MD5, "Mufasa", "testrealm@host.com", "circle of life")))
	// Output:
	// HA1: 939e7578ed9e3c518a452acee763bce9
	// right password: true
	// wrong password: false
}

func ExampleHA1() {
	fmt.Println(digest.HA1(digest.SHA256, "Mufasa", "http-auth@example.org", "Circle of Life"))
	// Output:
	// 7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232
}

package jwt

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzDecode feeds arbitrary strings to Decode and LooksLikeJWT. Seeds are in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(mint(rs256, `{"iss":"https://auth.example.com/","aud":["a"],"exp":1700000000.5,"scp":["x"]}`, fakeSig))
	f.Add(mint(`{"alg":"none"}`, `{"exp":"1700000000"}`, ""))
	f.Add(b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d")
	f.Add("a.b.c")
	f.Add("")
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Decode(s)
		looks := LooksLikeJWT(s)
		if err != nil {
			if !errors.Is(err, ErrNotJWT) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrEncrypted) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if (tok != nil) != errors.Is(err, ErrEncrypted) {
				t.Fatalf("token %v with error %v", tok, err)
			}
			if looks && errors.Is(err, ErrNotJWT) {
				t.Fatalf("LooksLikeJWT is true but Decode says %v", err)
			}
			assertNoLongRun(t, err.Error(), s)
		}
		if tok == nil {
			return
		}
		for _, w := range tok.Warnings {
			assertNoLongRun(t, w, s)
		}
		if tok.ExpiresAt != nil && tok.Claims["exp"] == nil {
			t.Fatal("ExpiresAt set without an exp claim")
		}
		out := tok.Describe(now)
		if !strings.HasSuffix(out, SignatureLine+"\n") {
			t.Fatalf("Describe does not end with the signature line:\n%s", out)
		}
		// The description must not depend on the signature at all.
		parts := strings.Split(s, ".")
		if err == nil && s == strings.TrimSpace(s) && parts[2] != "" {
			other, err := Decode(parts[0] + "." + parts[1] + ".AAAA")
			if err != nil {
				t.Fatalf("same token with another signature: %v", err)
			}
			if got := other.Describe(now); got != out {
				t.Fatalf("Describe depends on the signature:\n%s\nvs\n%s", out, got)
			}
		}
	})
}

// assertNoLongRun fails if out contains a run of 16 or more base64url
// characters of in: fixed messages have no such run, token text does.
func assertNoLongRun(t *testing.T, out, in string) {
	t.Helper()
	isB64 := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	for i := 0; i < len(in); {
		j := i
		for j < len(in) && isB64(in[j]) {
			j++
		}
		for k := i; k+16 <= j; k++ {
			if strings.Contains(out, in[k:k+16]) {
				t.Fatalf("%q echoes input text", out)
			}
		}
		i = max(j, i+1)
	}
}

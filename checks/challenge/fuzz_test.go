package challenge

import (
	"strings"
	"testing"
)

// FuzzParse feeds hostile header values to Parse. The seeds are in
// testdata/fuzz/FuzzParse; a second header is derived from the input so that
// the cross-header budget and list joining are exercised too.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate abc==, Basic realm="r"`,
		`"""`,
		`=,=,`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		half := s[len(s)/2:]
		cs := Parse([]string{s, half})
		if len(cs) > MaxChallenges {
			t.Fatalf("%d challenges, cap is %d", len(cs), MaxChallenges)
		}
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme in %+v", cs)
			}
			for i := 0; i < len(c.Scheme); i++ {
				if !isTchar(c.Scheme[i]) {
					t.Fatalf("scheme %q is not a token", c.Scheme)
				}
			}
			if len(c.Params) > MaxParams {
				t.Fatalf("%d params, cap is %d", len(c.Params), MaxParams)
			}
			if c.Token68 != "" && len(c.Params) > 0 {
				t.Fatalf("both token68 and params: %+v", c)
			}
			for n, v := range c.Params {
				if n == "" || n != strings.ToLower(n) {
					t.Fatalf("param name %q not lower-cased", n)
				}
				if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("control byte kept in value %q", v)
				}
			}
			if c.Realm != c.Params["realm"] || c.Error != c.Params["error"] ||
				c.ErrorDescription != c.Params["error_description"] || c.Scope != c.Params["scope"] {
				t.Fatalf("named fields disagree with params: %+v", c)
			}
			_ = c.BearerError()
			_ = c.SaysExpired()
			_ = c.String()
		}
		if p := Preferred(cs); (p == nil) != (len(cs) == 0) {
			t.Fatalf("Preferred = %v for %d challenges", p, len(cs))
		}
	})
}

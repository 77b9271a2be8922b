package jwt

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeSig looks like a signature and is obviously not one.
const fakeSig = "FAKE0SIG0qZ9xW8vU7tS6rQ5pO4nM3lK2jI1hG0"

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// mint builds a compact JWS from raw JSON header and payload.
func mint(header, payload, sig string) string { return b64(header) + "." + b64(payload) + "." + sig }

const rs256 = `{"alg":"RS256","kid":"key-1","typ":"JWT"}`

func TestDecodeValid(t *testing.T) {
	tok := mint(rs256, `{"iss":"https://auth.example.com/","sub":"svc-billing","aud":"https://api.example.com",`+
		`"exp":1700003600,"iat":1700000000,"nbf":1699999990,"scope":"billing.read billing.write","custom":{"a":[1,2]}}`, fakeSig)
	got, err := Decode(tok)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got.Header.Alg != "RS256" || got.Header.Kid != "key-1" || got.Header.Typ != "JWT" {
		t.Errorf("header = %+v", got.Header)
	}
	if got.Issuer != "https://auth.example.com/" || got.Subject != "svc-billing" {
		t.Errorf("iss/sub = %q/%q", got.Issuer, got.Subject)
	}
	if !reflect.DeepEqual(got.Audience, []string{"https://api.example.com"}) {
		t.Errorf("aud = %q", got.Audience)
	}
	if got.Scope != "billing.read billing.write" {
		t.Errorf("scope = %q", got.Scope)
	}
	wantDate := func(name string, at *time.Time, unix int64) {
		t.Helper()
		if at == nil || !at.Equal(time.Unix(unix, 0)) || at.Location() != time.UTC {
			t.Errorf("%s = %v, want %v UTC", name, at, time.Unix(unix, 0).UTC())
		}
	}
	wantDate("exp", got.ExpiresAt, 1700003600)
	wantDate("iat", got.IssuedAt, 1700000000)
	wantDate("nbf", got.NotBefore, 1699999990)
	if got.Unsigned || got.Encrypted || len(got.Warnings) != 0 {
		t.Errorf("unsigned=%v encrypted=%v warnings=%q", got.Unsigned, got.Encrypted, got.Warnings)
	}
	if _, ok := got.Claims["custom"].(map[string]any); !ok {
		t.Errorf("custom claim = %#v, want an object", got.Claims["custom"])
	}
}

func TestDecodeClaimVariants(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		aud      []string
		scope    string
		exp      *time.Time
		warnings int
	}{
		{"aud array", `{"aud":["a","b"]}`, []string{"a", "b"}, "", nil, 0},
		{"aud array with a number", `{"aud":["a",7]}`, []string{"a"}, "", nil, 1},
		{"aud object", `{"aud":{"x":1}}`, nil, "", nil, 1},
		{"missing claims", `{}`, nil, "", nil, 0},
		{"float exp", `{"exp":1700000000.25}`, nil, "", at(1700000000, 250e6), 0},
		{"exponent exp", `{"exp":1.7e9}`, nil, "", at(1700000000, 0), 0},
		{"numeric string exp", `{"exp":"1700000000"}`, nil, "", at(1700000000, 0), 1},
		{"word string exp", `{"exp":"tomorrow"}`, nil, "", nil, 1},
		{"bool exp", `{"exp":true}`, nil, "", nil, 1},
		{"null exp", `{"exp":null}`, nil, "", nil, 1},
		{"milliseconds exp", `{"exp":1700000000000}`, nil, "", nil, 1},
		{"huge exp", `{"exp":1e300}`, nil, "", nil, 1},
		{"huge integer exp", `{"exp":123456789012345678901234567890}`, nil, "", nil, 1},
		{"negative exp", `{"exp":-1}`, nil, "", at(-1, 0), 0},
		{"scp array (Okta)", `{"scp":["a","b"]}`, nil, "a b", nil, 0},
		{"scp string (Azure)", `{"scp":"User.Read Mail.Read"}`, nil, "User.Read Mail.Read", nil, 0},
		{"scope wins over scp", `{"scope":"x","scp":["y"]}`, nil, "x", nil, 0},
		{"scope number", `{"scope":5}`, nil, "", nil, 1},
		{"iss number", `{"iss":5}`, nil, "", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(mint(rs256, tt.payload, fakeSig))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got.Audience, tt.aud) {
				t.Errorf("aud = %q, want %q", got.Audience, tt.aud)
			}
			if got.Scope != tt.scope {
				t.Errorf("scope = %q, want %q", got.Scope, tt.scope)
			}
			if (got.ExpiresAt == nil) != (tt.exp == nil) || got.ExpiresAt != nil && !got.ExpiresAt.Equal(*tt.exp) {
				t.Errorf("exp = %v, want %v", got.ExpiresAt, tt.exp)
			}
			if len(got.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", got.Warnings, tt.warnings)
			}
		})
	}
}

func at(sec, nsec int64) *time.Time {
	t := time.Unix(sec, nsec).UTC()
	return &t
}

func TestDecodeErrors(t *testing.T) {
	huge := mint(rs256, `{"pad":"`+strings.Repeat("x", MaxTokenBytes)+`"}`, fakeSig)
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrNotJWT},
		{"blank", " \n", ErrNotJWT},
		{"two parts", "a.b", ErrNotJWT},
		{"four parts", "a.b.c.d", ErrNotJWT},
		{"api key", "sk_live_FAKE0000000000000000000000", ErrNotJWT},
		{"header not base64", "%%%." + b64(`{}`) + "." + fakeSig, ErrNotJWT},
		{"header not JSON", b64("hello") + "." + b64(`{}`) + "." + fakeSig, ErrNotJWT},
		{"header JSON array", b64(`["alg"]`) + "." + b64(`{}`) + "." + fakeSig, ErrNotJWT},
		{"payload not base64", b64(rs256) + ".***." + fakeSig, ErrMalformed},
		{"payload not JSON", mint(rs256, "not json", fakeSig), ErrMalformed},
		{"payload JSON array", mint(rs256, `[1,2]`, fakeSig), ErrMalformed},
		{"payload JSON null", mint(rs256, `null`, fakeSig), ErrMalformed},
		{"payload trailing data", mint(rs256, `{"a":1} {"b":2}`, fakeSig), ErrMalformed},
		{"payload trailing garbage", mint(rs256, `{"a":1} ]`, fakeSig), ErrMalformed},
		{"signature not base64", mint(rs256, `{}`, "sig!"), ErrMalformed},
		{"huge", huge, ErrMalformed},
		{"JWE", b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d", ErrEncrypted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != ErrEncrypted && got != nil {
				t.Errorf("token = %+v, want nil with an error", got)
			}
			assertNoTokenText(t, err.Error(), tt.token)
		})
	}
}

func TestDecodeJWEKeepsHeader(t *testing.T) {
	got, err := Decode(b64(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k"}`) + ".ZW5j.aXY.Y2lwaGVy.dGFn")
	if !errors.Is(err, ErrEncrypted) || got == nil {
		t.Fatalf("got %v, %v; want a header-only token and ErrEncrypted", got, err)
	}
	if !got.Encrypted || got.Header.Enc != "A256GCM" || got.Header.Kid != "k" || got.Claims != nil {
		t.Errorf("token = %+v", got)
	}
}

func TestDecodeAlgNone(t *testing.T) {
	got, err := Decode(mint(`{"alg":"none"}`, `{"sub":"x"}`, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Unsigned || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "unsigned") {
		t.Errorf("unsigned=%v warnings=%q", got.Unsigned, got.Warnings)
	}
	got, err = Decode(mint(`{"alg":"NoNe"}`, `{}`, ""))
	if err != nil || !got.Unsigned {
		t.Errorf("alg NoNe: unsigned=%v err=%v", got != nil && got.Unsigned, err)
	}
}

func TestDecodeLeniency(t *testing.T) {
	padded := base64.URLEncoding.EncodeToString([]byte(rs256)) + "." +
		base64.URLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + "." + fakeSig
	if !strings.Contains(padded, "=") {
		t.Fatal("test token should carry padding")
	}
	if got, err := Decode(padded); err != nil || got.Subject != "x" {
		t.Errorf("padded: %v, %v", got, err)
	}
	got, err := Decode(mint(rs256, `{"sub":"x"}`, fakeSig) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "whitespace") {
		t.Errorf("warnings = %q, want one about whitespace", got.Warnings)
	}
	got, err = Decode(mint(`{"typ":"JWT"}`, `{}`, fakeSig))
	if err != nil || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], `"alg"`) {
		t.Errorf("no alg: %v, warnings %q", err, got.Warnings)
	}
	got, err = Decode(mint(rs256, `{}`, ""))
	if err != nil || len(got.Warnings) != 1 || got.Warnings[0] != "signature is empty" {
		t.Errorf("empty signature with RS256: %v, warnings %q", err, got.Warnings)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for tok, want := range map[string]bool{
		mint(rs256, `{}`, fakeSig):           true,
		mint(`{"alg":"none"}`, `{}`, ""):     true,
		mint(`{"typ":"JWT"}`, `{}`, fakeSig): false,
		mint(rs256, `{}`, fakeSig) + "\n":    false,
		b64(rs256) + ".." + fakeSig:          false,
		"sk_live_FAKE0000000000000000000000": false,
		"a.b.c":                              false,
		"":                                   false,
		b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d": false,
		b64(rs256) + ".e30." + "a+b/c":                         false,
	} {
		if got := LooksLikeJWT(tok); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", tok, got, want)
		}
	}
}

// assertNoTokenText fails if out contains any run of 8 or more characters of
// the token's parts: errors and warnings must not echo credentials.
func assertNoTokenText(t *testing.T, out, token string) {
	t.Helper()
	for _, part := range strings.FieldsFunc(token, func(r rune) bool { return r == '.' || r == ' ' || r == '\n' }) {
		for i := 0; i+8 <= len(part); i++ {
			if strings.Contains(out, part[i:i+8]) {
				t.Fatalf("output %q contains token text %q", out, part[i:i+8])
			}
		}
	}
}

package challenge

import (
	"reflect"
	"strings"
	"testing"
)

// params builds a Params map from name, value pairs.
func params(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []Challenge
	}{
		{"no header", nil, nil},
		{"empty value", []string{""}, nil},
		{"only separators", []string{" , ,\t, "}, nil},
		{
			"basic realm",
			[]string{`Basic realm="Dev", charset="UTF-8"`}, // RFC 7617 §2.1
			[]Challenge{{Scheme: "Basic", Realm: "Dev", Params: params("realm", "Dev", "charset", "UTF-8")}},
		},
		{
			"bare scheme",
			[]string{"Bearer"},
			[]Challenge{{Scheme: "Bearer"}},
		},
		{
			"bearer with error, description and scope", // RFC 6750 §3
			[]string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			[]Challenge{{
				Scheme: "Bearer", Realm: "example", Error: "invalid_token", ErrorDescription: "The access token expired",
				Params: params("realm", "example", "error", "invalid_token", "error_description", "The access token expired"),
			}},
		},
		{
			"bearer insufficient scope",
			[]string{`Bearer error="insufficient_scope", scope="billing.read billing.write"`},
			[]Challenge{{
				Scheme: "Bearer", Error: "insufficient_scope", Scope: "billing.read billing.write",
				Params: params("error", "insufficient_scope", "scope", "billing.read billing.write"),
			}},
		},
		{
			"RFC 7235 example: two challenges in one line",
			[]string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]Challenge{
				{Scheme: "Newauth", Realm: "apps", Params: params("realm", "apps", "type", "1", "title", `Login to "apps"`)},
				{Scheme: "Basic", Realm: "simple", Params: params("realm", "simple")},
			},
		},
		{
			"challenges across header lines",
			[]string{`Basic realm="a"`, `Bearer realm="b", error="invalid_request"`},
			[]Challenge{
				{Scheme: "Basic", Realm: "a", Params: params("realm", "a")},
				{Scheme: "Bearer", Realm: "b", Error: "invalid_request", Params: params("realm", "b", "error", "invalid_request")},
			},
		},
		{
			"quoted comma does not split",
			[]string{`Bearer error_description="bad, very bad", realm="x,y"`},
			[]Challenge{{
				Scheme: "Bearer", Realm: "x,y", ErrorDescription: "bad, very bad",
				Params: params("error_description", "bad, very bad", "realm", "x,y"),
			}},
		},
		{
			"escapes",
			[]string{`Bearer realm="a\\b\"c\d"`},
			[]Challenge{{Scheme: "Bearer", Realm: `a\b"cd`, Params: params("realm", `a\b"cd`)}},
		},
		{
			"token68 with trailing padding",
			[]string{"Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCAUAEggE8TlRMTVNTUAABAAAAl7II4g=="},
			[]Challenge{{Scheme: "Negotiate", Token68: "YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCAUAEggE8TlRMTVNTUAABAAAAl7II4g=="}},
		},
		{
			"token68 then another challenge",
			[]string{`Negotiate abc==, Basic realm="r"`},
			[]Challenge{
				{Scheme: "Negotiate", Token68: "abc=="},
				{Scheme: "Basic", Realm: "r", Params: params("realm", "r")},
			},
		},
		{
			"lowercase scheme kept as sent, param names lower-cased",
			[]string{`bearer REALM="api", Error=invalid_token`},
			[]Challenge{{Scheme: "bearer", Realm: "api", Error: "invalid_token", Params: params("realm", "api", "error", "invalid_token")}},
		},
		{
			"BWS around = and commas, empty elements",
			[]string{` ,  Bearer   realm = "x" ,, ,  error=  invalid_token  , `},
			[]Challenge{{Scheme: "Bearer", Realm: "x", Error: "invalid_token", Params: params("realm", "x", "error", "invalid_token")}},
		},
		{
			"unquoted URL realm read leniently",
			[]string{`Bearer realm=https://auth.example.com/, scope=openid`},
			[]Challenge{{Scheme: "Bearer", Realm: "https://auth.example.com/", Scope: "openid", Params: params("realm", "https://auth.example.com/", "scope", "openid")}},
		},
		{
			"missing comma between params",
			[]string{`Bearer realm="x" error="invalid_token"`},
			[]Challenge{{Scheme: "Bearer", Realm: "x", Error: "invalid_token", Params: params("realm", "x", "error", "invalid_token")}},
		},
		{
			"duplicate param: first wins",
			[]string{`Bearer error="invalid_token", error="invalid_request"`},
			[]Challenge{{Scheme: "Bearer", Error: "invalid_token", Params: params("error", "invalid_token")}},
		},
		{
			"param before any scheme is dropped",
			[]string{`realm="x", Basic realm="y"`},
			[]Challenge{{Scheme: "Basic", Realm: "y", Params: params("realm", "y")}},
		},
		{
			"unterminated quoted string keeps what was sent",
			[]string{`Bearer error="invalid_token", error_description="The token exp`},
			[]Challenge{{
				Scheme: "Bearer", Error: "invalid_token", ErrorDescription: "The token exp",
				Params: params("error", "invalid_token", "error_description", "The token exp"),
			}},
		},
		{
			"control bytes dropped from quoted values",
			[]string{"Bearer realm=\"a\x1b[31mb\x00\", error=\"x\ty\""},
			[]Challenge{{Scheme: "Bearer", Realm: "a[31mb", Error: "x y", Params: params("realm", "a[31mb", "error", "x y")}},
		},
		{
			"unicode in a quoted value survives, invalid UTF-8 replaced",
			[]string{"Basic realm=\"Zürich \xff\""},
			[]Challenge{{Scheme: "Basic", Realm: "Zürich \uFFFD", Params: params("realm", "Zürich \uFFFD")}},
		},
		{"garbage: quotes", []string{`"""`}, nil},
		{"garbage: equals and commas", []string{`=,=,`}, nil},
		{"garbage: unicode scheme", []string{"Bäsic realm=x, Basic"}, []Challenge{{Scheme: "Basic"}}},
		{
			"garbage element skipped, the rest still read",
			[]string{`Bearer realm="x", ==junk"a,b"junk, error="invalid_token", Basic`},
			[]Challenge{
				{Scheme: "Bearer", Realm: "x", Error: "invalid_token", Params: params("realm", "x", "error", "invalid_token")},
				{Scheme: "Basic"},
			},
		},
		{
			"param without value skipped",
			[]string{`Bearer realm=, error="invalid_token"`},
			[]Challenge{{Scheme: "Bearer", Error: "invalid_token", Params: params("error", "invalid_token")}},
		},
		{
			"control byte after scheme",
			[]string{"Bearer\x00 realm=\"x\", Basic realm=\"y\""},
			[]Challenge{{Scheme: "Basic", Realm: "y", Params: params("realm", "y")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.headers)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.headers, got, tt.want)
			}
		})
	}
}

func TestParseHugeLineIsCut(t *testing.T) {
	huge := `Bearer realm="x", error="invalid_token", ` + strings.Repeat(`a="`+strings.Repeat("z", 1000)+`", `, 1100)
	if len(huge) < 1<<20 {
		t.Fatalf("test input is %d bytes, want at least 1 MiB", len(huge))
	}
	got := Parse([]string{huge, `Basic realm="after the budget"`})
	if len(got) != 1 || got[0].Error != "invalid_token" {
		t.Fatalf("got %d challenges %+v, want only the Bearer one", len(got), got)
	}
	// Only the first 64 KiB are read: ~60 one-kilobyte params, not 1,100.
	if n := len(got[0].Params); n > MaxParams {
		t.Errorf("kept %d params, cap is %d", n, MaxParams)
	}
}

func TestParseBudgetSpansHeaders(t *testing.T) {
	filler := `X ` + `p="` + strings.Repeat("y", MaxHeaderBytes-10) + `"`
	got := Parse([]string{filler, `Bearer error="invalid_token"`})
	for _, c := range got {
		if c.Is("Bearer") {
			t.Fatalf("read a header beyond the %d-byte budget", MaxHeaderBytes)
		}
	}
	if len(got) != 1 || got[0].Scheme != "X" {
		t.Errorf("got %d challenges, want only the X one", len(got))
	}
	// A value cut by the budget keeps only its whole elements.
	filler = `X ` + `p="` + strings.Repeat("y", MaxHeaderBytes-40) + `"`
	got = Parse([]string{filler, `Basic realm="r", Bearer error="invalid_token"`})
	if len(got) != 2 || got[1].Scheme != "Basic" || got[1].Realm != "r" {
		t.Errorf("got %d challenges, want X and Basic (the cut Bearer dropped)", len(got))
	}
}

func TestParseCapsChallengesAndParams(t *testing.T) {
	many := strings.Repeat("Basic, ", 100)
	if got := Parse([]string{many}); len(got) != MaxChallenges {
		t.Errorf("got %d challenges, want the cap %d", len(got), MaxChallenges)
	}
	var b strings.Builder
	b.WriteString("Bearer ")
	for i := range 200 {
		b.WriteString("p")
		b.WriteString(strings.Repeat("q", i))
		b.WriteString("=1, ")
	}
	b.WriteString(`Basic realm="last"`)
	got := Parse([]string{b.String()})
	if len(got) != 2 {
		t.Fatalf("got %d challenges, want 2: params beyond the cap must be skipped, not end the parse", len(got))
	}
	if n := len(got[0].Params); n != MaxParams {
		t.Errorf("kept %d params, want the cap %d", n, MaxParams)
	}
	if got[1].Realm != "last" {
		t.Errorf("challenge after many params: %+v", got[1])
	}
}

func TestPreferred(t *testing.T) {
	if Preferred(nil) != nil {
		t.Error("Preferred(nil) != nil")
	}
	cs := Parse([]string{`Basic realm="a", bearer error="invalid_token", Bearer realm="second"`})
	p := Preferred(cs)
	if p == nil || p.Scheme != "bearer" || p.Error != "invalid_token" {
		t.Errorf("Preferred = %+v, want the first Bearer (any case)", p)
	}
	if p != &cs[1] {
		t.Error("Preferred must point into the slice it was given")
	}
	cs = Parse([]string{`Digest realm="d", Basic realm="b"`})
	if p := Preferred(cs); p == nil || p.Scheme != "Digest" {
		t.Errorf("Preferred without Bearer = %+v, want the first", p)
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Bearer realm="a\"b", error=invalid_token`, `Bearer error="invalid_token", realm="a\"b"`},
		{`Negotiate abc==`, `Negotiate abc==`},
		{`Basic`, `Basic`},
	}
	for _, tt := range tests {
		cs := Parse([]string{tt.in})
		if len(cs) != 1 {
			t.Fatalf("Parse(%q) = %+v", tt.in, cs)
		}
		if got := cs[0].String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

package jwt

import (
	"strings"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := mint(rs256, `{"sub":"svc","exp":1740819600,"nbf":1740830700,"iat":1740652200,`+
		`"aud":["a","b"],"evil":"\u001b[2Jgone","n":{"x":"<b>"}}`, fakeSig)
	got, err := Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := `header:
  alg  RS256
  kid  key-1
  typ  JWT
claims:
  aud   ["a","b"]
  evil  "\x1b[2Jgone"
  exp   2025-03-01T09:00:00Z (expired 3h ago)
  iat   2025-02-27T10:30:00Z (issued 2d 1h ago)
  n     {"x":"<b>"}
  nbf   2025-03-01T12:05:00Z (not valid for another 5m (check clocks))
  sub   svc
signature: not verified (credmon never trusts a token)
`
	if out := got.Describe(now); out != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", out, want)
	}
}

func TestDescribeFutureAndWarnings(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	got, err := Decode(mint(`{"alg":"none"}`, `{"exp":1741020000,"iat":"soon","nbf":1740826800.5}`, ""))
	if err != nil {
		t.Fatal(err)
	}
	out := got.Describe(now)
	for _, want := range []string{
		"exp  2025-03-03T16:40:00Z (expires in 2d 4h)",
		`iat  soon`,
		"nbf  2025-03-01T11:00:00.5Z (valid since 1h ago)",
		"warnings:\n  - alg is \"none\"",
		"  - iat is a string, not a NumericDate",
		SignatureLine,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}
}

func TestDescribeNeverPrintsSignature(t *testing.T) {
	got, err := Decode(mint(rs256, `{"sub":"x"}`, fakeSig))
	if err != nil {
		t.Fatal(err)
	}
	assertNoTokenText(t, got.Describe(time.Now()), fakeSig)
}

func TestDescribeEncrypted(t *testing.T) {
	got, _ := Decode(b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".ZW5j.aXY.Y2lwaGVy.dGFn")
	out := got.Describe(time.Now())
	if !strings.Contains(out, "enc  A256GCM") || !strings.Contains(out, "claims: encrypted") {
		t.Errorf("Describe of a JWE:\n%s", out)
	}
}

func TestDescribeTruncatesLongValues(t *testing.T) {
	got, err := Decode(mint(rs256, `{"big":"`+strings.Repeat("é", 500)+`"}`, fakeSig))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Split(got.Describe(time.Now()), "\n")[5]
	if want := "  big  " + strings.Repeat("é", maxValueRunes) + "…"; line != want {
		t.Errorf("line = %q, want %d runes and an ellipsis", line, maxValueRunes)
	}
}

package redact

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const fakeKey = "sk_test_FAKEa1b2c3d4e5f6g7h8i9j0k1l2m3"

// leaks reports the first run of MinRun characters of any form of secrets,
// or a shorter form whole, found between the masks of text, by brute force.
// (A mask next to text may spell a secret by accident, as "000" + "<"
// spells "000<"; that reveals nothing.)
func leaks(text string, secrets ...string) string {
	for _, seg := range strings.Split(text, Mask) {
		if l := leaksIn(seg, secrets...); l != "" {
			return l
		}
	}
	return ""
}

func leaksIn(text string, secrets ...string) string {
	text = lowerASCII(text) // in any ASCII letter case, as the rule says
	for _, v := range secrets {
		if len(v) < minWhole {
			continue
		}
		for _, f := range Forms(v) {
			f = lowerASCII(f)
			if len(f) < minWhole {
				continue
			}
			if len(f) < MinRun {
				if strings.Contains(text, f) {
					return f
				}
				continue
			}
			for i := 0; i+MinRun <= len(f); i++ {
				if strings.Contains(text, f[i:i+MinRun]) {
					return f[i : i+MinRun]
				}
			}
		}
	}
	return ""
}

// lowerASCII lowers ASCII letters byte by byte (strings.Map would turn
// invalid UTF-8 into U+FFFD).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestStringMasksRunsAndForms(t *testing.T) {
	user, pw := "admin", "FAKE-Summer-2026-pw!"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	jsonPW := "FAKE<pw>&-json-form"
	s := NewSet(fakeKey, pw, user+":"+pw, jsonPW)
	cases := map[string]string{
		"whole":            "key " + fakeKey + " rejected",
		"cut at the start": "…" + fakeKey[5:] + " rejected",
		"cut at the end":   "refresh token " + fakeKey[:13] + "…",
		"middle run":       "x" + fakeKey[7:19] + "y",
		"basic header":     "Authorization: Basic " + basic,
		"basic cut":        "got Basic " + basic[:17],
		"url escaped":      "token=" + url.QueryEscape(pw) + "&x=1",
		"json escaped":     `{"echo":"FAKE\u003cpw\u003e\u0026-json-form"}`,
		"twice":            fakeKey + " and " + fakeKey,
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			got := s.String(text)
			if l := leaks(got, fakeKey, pw, user+":"+pw, jsonPW); l != "" {
				t.Fatalf("String(%q) = %q: still holds %q", text, got, l)
			}
			if !strings.Contains(got, Mask) {
				t.Fatalf("String(%q) = %q: nothing masked", text, got)
			}
		})
	}
}

// TestStringMasksAnyLetterCase: a secret comes back case-changed where a
// server echoes it in a header's name (Go canonicalises it) or an
// auth-param's name (the challenge parser lowercases it).
func TestStringMasksAnyLetterCase(t *testing.T) {
	s := NewSet(fakeKey, "FAKEpw1")
	cases := map[string]string{
		"header name":     textproto.CanonicalMIMEHeaderKey("X-" + fakeKey),
		"lower":           "Bearer realm=\"r\", " + strings.ToLower(fakeKey) + "=\"x\"",
		"upper run":       "…" + strings.ToUpper(fakeKey[3:17]) + "…",
		"base64 lower":    strings.ToLower(base64.StdEncoding.EncodeToString([]byte(fakeKey))),
		"short secret up": "password FAKEPW1",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			got := s.String(text)
			if l := leaks(got, fakeKey, "FAKEpw1"); l != "" {
				t.Fatalf("String(%q) = %q: still holds %q", text, got, l)
			}
			if !strings.Contains(got, Mask) {
				t.Fatalf("String(%q) = %q: nothing masked", text, got)
			}
		})
	}
	if got := s.String("X-Request-Id: 0f3a"); got != "X-Request-Id: 0f3a" {
		t.Errorf("other text changed: %q", got)
	}
}

// TestStringMasksEscapedEchoes: a server echoes a secret escaped every
// character, which no fixed form matches; the text holds no run once
// decoded by the standard library's decoders either.
func TestStringMasksEscapedEchoes(t *testing.T) {
	s := NewSet(fakeKey)
	each := func(format string) string {
		var b strings.Builder
		for i := 0; i < len(fakeKey); i++ {
			fmt.Fprintf(&b, format, fakeKey[i])
		}
		return b.String()
	}
	for name, text := range map[string]string{
		"percent every byte": "k=" + each("%%%02X") + "&x=1",
		"percent lower hex":  "k=" + each("%%%02x"),
		"json \\u":           `{"echo":"` + each(`\u%04x`) + `"}`,
		"quoted-string \\c":  `Bearer error_description="` + each(`\%c`) + `"`,
		"html decimal":       "<p>" + each("&#%d;") + "</p>",
		"html hex":           "<p>" + each("&#x%x;") + "</p>",
		"mixed":              fakeKey[:6] + fmt.Sprintf("%%%02X", fakeKey[6]) + fmt.Sprintf(`\u00%02x`, fakeKey[7]) + fmt.Sprintf("&#%d;", fakeKey[8]) + fakeKey[9:],
	} {
		t.Run(name, func(t *testing.T) {
			if leaks(unescapeAll(text), fakeKey) == "" {
				t.Fatalf("the case holds no secret: %q", text)
			}
			got := s.String(text)
			if l := leaks(unescapeAll(got), fakeKey); l != "" {
				t.Fatalf("String(%q) = %q: unescaped, still holds %q", text, got, l)
			}
		})
	}
	for _, keep := range []string{"100% sure", `C:\dir\file`, "a &amp; b", "&#;", "%zz", `\u12`} {
		if got := s.String(keep); got != keep {
			t.Errorf("String(%q) = %q, want it unchanged", keep, got)
		}
	}
}

// The escapes unescapeAll undoes, independently of unescape.go: JSON's \u
// and \x (ASCII), percent-encoding, a backslash before any character.
var (
	hexEscapeRE       = regexp.MustCompile(`\\u[0-9a-fA-F]{4}|\\x[0-7][0-9a-fA-F]`)
	percentEscapeRE   = regexp.MustCompile(`%[0-9a-fA-F]{2}`)
	backslashEscapeRE = regexp.MustCompile(`\\(.)`)
)

// unescapeAll undoes those escapes and HTML's with the standard library,
// where they parse.
func unescapeAll(s string) string {
	s = hexEscapeRE.ReplaceAllStringFunc(s, func(m string) string {
		r, _ := strconv.ParseUint(m[2:], 16, 32)
		return string(rune(r))
	})
	s = percentEscapeRE.ReplaceAllStringFunc(s, func(m string) string {
		v, _ := url.PathUnescape(m)
		return v
	})
	return html.UnescapeString(backslashEscapeRE.ReplaceAllString(s, "$1"))
}

func TestStringKeepsOtherText(t *testing.T) {
	s := NewSet(fakeKey)
	for _, text := range []string{
		"", "short", "The API answered 401 Unauthorized (error=\"invalid_token\")",
		fakeKey[:MinRun-1] + " is only eleven characters of the key",
	} {
		if got := s.String(text); got != text {
			t.Errorf("String(%q) = %q, want it unchanged", text, got)
		}
	}
	if got := (*Set)(nil).String("x " + fakeKey); got != "x "+fakeKey {
		t.Errorf("a nil set changed text: %q", got)
	}
}

func TestNothingToRedactIsANilSet(t *testing.T) {
	for _, values := range [][]string{nil, {""}, {"abc", ""}} {
		if s := NewSet(values...); s != nil {
			t.Errorf("NewSet(%q) = %+v, want nil (it redacts nothing)", values, s)
		}
	}
	if NewSet("abcd") == nil {
		t.Error("NewSet of a four-character secret is nil; it is redacted whole")
	}
}

func TestShortSecretsWhole(t *testing.T) {
	s := NewSet("FAKEpw1", "abc")
	if got := s.String("password FAKEpw1 or abc"); got != "password "+Mask+" or abc" {
		t.Fatalf("got %q", got)
	}
}

func TestStringSeveralSets(t *testing.T) {
	a, b := NewSet(fakeKey), NewSet("xoxb-FAKE-0000-bot-token")
	got := String("k="+fakeKey+" t=xoxb-FAKE-0000-bot-token", a, b)
	if l := leaks(got, fakeKey, "xoxb-FAKE-0000-bot-token"); l != "" {
		t.Fatalf("%q holds %q", got, l)
	}
	if got != "k="+Mask+" t="+Mask {
		t.Fatalf("got %q", got)
	}
}

func TestRepetitiveSecretIsLinear(t *testing.T) {
	secret := strings.Repeat("a", 200)
	s := NewSet(secret)
	text := strings.Repeat("a", 1<<16)
	if got := s.String(text); got != Mask {
		t.Fatalf("got %d bytes, want one mask", len(got))
	}
}

func FuzzString(f *testing.F) {
	f.Add(fakeKey, "prefix "+fakeKey[3:20]+" suffix", 0)
	f.Add("FAKE-pass", "FAKE-passFAKE-pass", 3)
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaab", 1)
	f.Fuzz(func(t *testing.T, secret, text string, cut int) {
		if len(secret) > 256 || len(text) > 4096 {
			return
		}
		// Splice a piece of the secret, or of one of its forms, into the text.
		forms := Forms(secret)
		form := forms[(cut%len(forms)+len(forms))%len(forms)]
		if n := len(form); n > 0 {
			from := (cut%n + n) % n
			text = text[:len(text)/2] + form[from:] + text[len(text)/2:]
		}
		got := NewSet(secret).String(text)
		if l := leaks(got, secret); l != "" {
			t.Fatalf("String(%q) with secret %q = %q: still holds %q", text, secret, got, l)
		}
	})
}

// FuzzStringEscaped splices a piece of the secret, escaped every character
// in one of the ways unescape.go undoes, into text that has no escapes of
// its own; undone by unescapeAll, the result holds no run.
func FuzzStringEscaped(f *testing.F) {
	f.Add(fakeKey, "prefix  suffix", 3, uint8(0))
	f.Add("FAKE_pass-0000000000", "x", 0, uint8(2))
	f.Fuzz(func(t *testing.T, secret, text string, cut int, how uint8) {
		if len(secret) > 128 || len(text) > 2048 || strings.ContainsAny(text, escapeStarts) || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != "" {
			return
		}
		from := 0
		if n := len(secret); n > 0 {
			from = (cut%n + n) % n
		}
		format := []string{"%%%02X", `\u%04x`, "&#%d;", `\%c`, "&#x%X;"}[int(how)%5]
		var piece strings.Builder
		for i := from; i < len(secret); i++ {
			fmt.Fprintf(&piece, format, secret[i])
		}
		text = text[:len(text)/2] + piece.String() + text[len(text)/2:]
		got := NewSet(secret).String(text)
		if l := leaks(unescapeAll(got), secret); l != "" {
			t.Fatalf("String(%q) with secret %q = %q: unescaped, still holds %q", text, secret, got, l)
		}
	})
}

// BenchmarkString is the per-probe cost of redacting a typical challenge
// or error text against a credential's set.
func BenchmarkString(b *testing.B) {
	s := NewSet(fakeKey, "FAKE-previous-key-0000000000000000")
	text := `Bearer realm="api", error="invalid_token", error_description="The access token provided is expired, revoked, malformed, or invalid for other reasons."`
	b.ReportAllocs()
	for b.Loop() {
		_ = s.String(text)
	}
}

func BenchmarkNewSet(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewSet(fakeKey, "FAKE-previous-key-0000000000000000")
	}
}

func TestExcerptRedactsThenCutsOnARune(t *testing.T) {
	long := strings.Repeat("é", 300)
	got := Excerpt(long, 256)
	if len(got) > 256+len("…") || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("Excerpt of 600 bytes: %d bytes, valid %v: %q", len(got), utf8.ValidString(got), got[len(got)-8:])
	}
	// The secret straddles the cut: redacted whole before cutting, no run
	// of it is left.
	text := strings.Repeat("x", 240) + fakeKey + strings.Repeat("y", 40)
	got = Excerpt("  "+text+"\n", 256, NewSet(fakeKey))
	if strings.Contains(got, fakeKey[:MinRun]) || !strings.HasPrefix(got, "xxx") || !strings.HasSuffix(got, "…") {
		t.Errorf("Excerpt = %q", got)
	}
	if got := Excerpt(" short ", 256); got != "short" {
		t.Errorf("Excerpt(short) = %q", got)
	}
}

package jwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/credmon/credmon/checks/duration"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxValueRunes keeps one hostile claim from flooding a terminal.
const maxValueRunes = 200

// SignatureLine ends every description: credmon decodes, it never verifies.
const SignatureLine = "signature: not verified (credmon never trusts a token)"

// Describe renders the token for a person (`credmon jwt`, `credmon
// explain`): the header, the claims sorted by name with exp/nbf/iat as
// RFC 3339 UTC dates and how far they are from now, the warnings, and a
// reminder that nothing was verified. It never prints the signature.
func (t *Token) Describe(now time.Time) string {
	var b strings.Builder
	b.WriteString("header:\n")
	writeFields(&b, t.Header.Params, nil)
	if t.Encrypted {
		b.WriteString("claims: encrypted (JWE); only the holder of the key can read them\n")
	} else {
		b.WriteString("claims:\n")
		writeFields(&b, t.Claims, func(name string) (string, bool) { return t.dateValue(name, now) })
	}
	if len(t.Warnings) > 0 {
		b.WriteString("warnings:\n")
		for _, w := range t.Warnings {
			b.WriteString("  - ")
			b.WriteString(w)
			b.WriteByte('\n')
		}
	}
	b.WriteString(SignatureLine)
	b.WriteByte('\n')
	return b.String()
}

// writeFields writes "  name  value" lines sorted by name, names aligned.
// special may render a field its own way.
func writeFields(b *strings.Builder, m map[string]any, special func(string) (string, bool)) {
	names := make([]string, 0, len(m))
	width := 0
	for n := range m {
		names = append(names, n)
		width = max(width, utf8.RuneCountInString(printable(n)))
	}
	sort.Strings(names)
	for _, n := range names {
		v, ok := "", false
		if special != nil {
			v, ok = special(n)
		}
		if !ok {
			v = formatValue(m[n])
		}
		name := printable(n)
		b.WriteString("  ")
		b.WriteString(name)
		b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(name)+2))
		b.WriteString(v)
		b.WriteByte('\n')
	}
}

// dateValue renders exp, nbf and iat when they could be read as dates.
func (t *Token) dateValue(name string, now time.Time) (string, bool) {
	var at *time.Time
	switch name {
	case "exp":
		at = t.ExpiresAt
	case "nbf":
		at = t.NotBefore
	case "iat":
		at = t.IssuedAt
	}
	if at == nil {
		return "", false
	}
	d := at.Sub(now)
	var rel string
	switch name {
	case "exp":
		if d <= 0 {
			rel = "expired " + duration.Human(-d) + " ago"
		} else {
			rel = "expires in " + duration.Human(d)
		}
	case "nbf":
		if d > 0 {
			rel = "not valid for another " + duration.Human(d) + " (check clocks)"
		} else {
			rel = "valid since " + duration.Human(-d) + " ago"
		}
	case "iat":
		if d > 0 {
			rel = "issued " + duration.Human(d) + " in the future (check clocks)"
		} else {
			rel = "issued " + duration.Human(-d) + " ago"
		}
	}
	return at.UTC().Format(time.RFC3339Nano) + " (" + rel + ")", true
}

// formatValue prints strings bare when they are plain text and everything
// else as compact JSON, so that a claim cannot smuggle control sequences
// into a terminal.
func formatValue(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = printable(v)
	case json.Number:
		s = v.String()
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			s = fmt.Sprintf("<%T>", v)
		} else {
			s = strings.TrimSuffix(buf.String(), "\n")
		}
	}
	if utf8.RuneCountInString(s) > maxValueRunes {
		s = string([]rune(s)[:maxValueRunes]) + "…"
	}
	return s
}

// printable returns s unchanged if every rune prints, else Go-quoted.
func printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

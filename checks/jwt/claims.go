package jwt

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// The NumericDates time.Time can represent as a calendar date (years 1–9999).
const (
	minNumericDate = -62135596800
	maxNumericDate = 253402300799
)

// readClaims fills the typed fields. Issuers get these wrong in every way
// JSON allows, so a wrong type is a warning and the field stays empty.
// Warnings name the claim, never its value.
func (t *Token) readClaims() {
	t.Issuer = t.stringClaim("iss")
	t.Subject = t.stringClaim("sub")
	t.Audience = t.audience()
	t.Scope = t.scope()
	t.ExpiresAt = t.numericDate("exp")
	t.IssuedAt = t.numericDate("iat")
	t.NotBefore = t.numericDate("nbf")
}

func (t *Token) warn(msg string) { t.Warnings = append(t.Warnings, msg) }

func (t *Token) stringClaim(name string) string {
	v, ok := t.Claims[name]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		t.warn(name + " is not a string")
	}
	return s
}

func (t *Token) audience() []string {
	v, ok := t.Claims["aud"]
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		aud, ok := stringList(v)
		if !ok {
			t.warn("aud has entries that are not strings; they are ignored")
		}
		return aud
	}
	t.warn("aud is neither a string nor an array of strings")
	return nil
}

// scope reads RFC 9068 "scope" (a space-separated string) or, failing that,
// "scp", which Azure sends as a string and Okta as an array.
func (t *Token) scope() string {
	for _, name := range []string{"scope", "scp"} {
		v, ok := t.Claims[name]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			return v
		case []any:
			list, ok := stringList(v)
			if !ok {
				t.warn(name + " has entries that are not strings; they are ignored")
			}
			return strings.Join(list, " ")
		}
		t.warn(name + " is neither a string nor an array of strings")
	}
	return ""
}

func stringList(v []any) ([]string, bool) {
	out := make([]string, 0, len(v))
	ok := true
	for _, e := range v {
		s, isString := e.(string)
		if !isString {
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

// numericDate reads seconds since the epoch (RFC 7519 §2), integer or
// fractional. A numeric string is accepted with a warning, because some
// issuers send one and the date is still worth showing.
func (t *Token) numericDate(name string) *time.Time {
	v, ok := t.Claims[name]
	if !ok {
		return nil
	}
	var num string
	switch v := v.(type) {
	case json.Number:
		num = v.String()
	case string:
		num = strings.TrimSpace(v)
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			t.warn(name + " is a string, not a NumericDate")
			return nil
		}
		t.warn(name + " is a numeric string; RFC 7519 wants a JSON number")
	default:
		t.warn(name + " is not a NumericDate")
		return nil
	}
	if sec, err := strconv.ParseInt(num, 10, 64); err == nil {
		return t.inRange(name, float64(sec), func() time.Time { return time.Unix(sec, 0).UTC() })
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		t.warn(name + " is not a NumericDate")
		return nil
	}
	return t.inRange(name, f, func() time.Time {
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9))).UTC()
	})
}

func (t *Token) inRange(name string, f float64, date func() time.Time) *time.Time {
	switch {
	case f > maxNumericDate && f/1000 <= maxNumericDate:
		t.warn(name + " looks like milliseconds; RFC 7519 wants seconds since the epoch")
		return nil
	case f > maxNumericDate || f < minNumericDate:
		t.warn(name + " is out of the range of dates")
		return nil
	}
	d := date()
	return &d
}

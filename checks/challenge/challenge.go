// Package challenge parses HTTP authentication challenges (RFC 7235/9110
// WWW-Authenticate) and maps RFC 6750 bearer errors to meaning.
package challenge

import (
	"sort"
	"strings"
)

// Challenge is one parsed authentication challenge.
type Challenge struct {
	Scheme           string            `json:"scheme"`
	Realm            string            `json:"realm,omitempty"`
	Error            string            `json:"error,omitempty"`
	ErrorDescription string            `json:"error_description,omitempty"`
	Scope            string            `json:"scope,omitempty"`
	Token68          string            `json:"token68,omitempty"`
	Params           map[string]string `json:"params,omitempty"` // every auth-param, names lower-cased
}

// Limits against hostile servers: a probe parses whatever the far side sends.
const (
	MaxHeaderBytes = 64 << 10 // header bytes read across all values; the rest is ignored
	MaxChallenges  = 32
	MaxParams      = 64 // per challenge
)

// Parse parses the values of every WWW-Authenticate header of a response.
// It never fails: what cannot be parsed is skipped up to the next comma, and
// the rest is still read.
func Parse(headers []string) []Challenge {
	p := parser{budget: MaxHeaderBytes}
	for _, h := range headers {
		if p.budget <= 0 || p.capped {
			break
		}
		n := len(h)
		if n > p.budget {
			h = cut(h, p.budget, p.budget == MaxHeaderBytes)
		}
		p.budget -= n
		p.parseValue(h)
	}
	return p.out
}

// cut shortens a value to at most n bytes at a comma, so that no element is
// parsed half-read (a scheme "Bearer" cut to "Bear" would mislead). Without a
// comma the value is dropped, unless it is the first one: then its prefix
// still names the scheme.
func cut(h string, n int, first bool) string {
	h = h[:n]
	if i := strings.LastIndexByte(h, ','); i >= 0 {
		return h[:i]
	}
	if first {
		return h
	}
	return ""
}

// Is reports whether the challenge uses scheme, compared case-insensitively
// as RFC 9110 §11.1 requires.
func (c Challenge) Is(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// Preferred picks the challenge a diagnosis should talk about: the Bearer one
// if the server offers it (that is where RFC 6750 errors live), else the
// first. It returns nil when there is none.
func Preferred(cs []Challenge) *Challenge {
	for i := range cs {
		if cs[i].Is("Bearer") {
			return &cs[i]
		}
	}
	if len(cs) == 0 {
		return nil
	}
	return &cs[0]
}

// String renders the challenge back in header syntax, params sorted by name,
// for explain output and messages.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteByte(' ')
		b.WriteString(c.Token68)
		return b.String()
	}
	names := make([]string, 0, len(c.Params))
	for n := range c.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(quote(c.Params[n]))
	}
	return b.String()
}

// quote produces an RFC 9110 quoted-string: only '"' and '\' need escaping.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

package redact

import (
	"net/url"
	"strings"
)

// sensitiveQueryWords mark query parameters whose values are secrets by
// their name (api_key, access_token, client_secret, sig, …).
var sensitiveQueryWords = []string{"key", "token", "secret", "pass", "pwd", "auth", "sig", "session", "code", "credential"}

// SensitiveQueryName reports whether a query parameter's name says its
// value is a secret.
func SensitiveQueryName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sensitiveQueryWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// URL renders a URL for display: userinfo and the values of sensitive
// query parameters masked, then the rest redacted with sets. Text that does
// not parse as a URL is redacted as text.
func URL(raw string, sets ...*Set) string {
	u, err := url.Parse(raw)
	if err != nil {
		return String(raw, sets...)
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteString("://")
	}
	if u.User != nil {
		b.WriteString(Mask)
		b.WriteString("@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?")
		for i, pair := range strings.Split(u.RawQuery, "&") {
			if i > 0 {
				b.WriteString("&")
			}
			name, _, hasValue := strings.Cut(pair, "=")
			if hasValue {
				if k, err := url.QueryUnescape(name); err == nil && SensitiveQueryName(k) {
					pair = name + "=" + Mask
				}
			}
			b.WriteString(pair)
		}
	}
	if u.Fragment != "" {
		b.WriteString("#")
		b.WriteString(u.EscapedFragment())
	}
	return String(b.String(), sets...)
}

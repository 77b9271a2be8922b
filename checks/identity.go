package checks

import (
	"strings"
)

// Identity describes a credential as people recognise it without revealing
// it: type, header, scheme and at most a known prefix plus the last four
// characters ("api_key Authorization: Bearer sk_live_…a1b2").
func Identity(kind, header, scheme, secret string) string {
	var b strings.Builder
	b.WriteString(kind)
	if header != "" {
		b.WriteString(" ")
		b.WriteString(header)
		b.WriteString(":")
	}
	if scheme != "" {
		b.WriteString(" ")
		b.WriteString(scheme)
	}
	b.WriteString(" ")
	b.WriteString(Fingerprint(secret))
	return b.String()
}

// Fingerprint shows at most a recognisable prefix and the last four
// characters of a secret. Short secrets show nothing but their length class.
func Fingerprint(secret string) string {
	secret = strings.TrimSpace(secret)
	if len(secret) < 16 {
		return "…"
	}
	return knownPrefix(secret) + "…" + secret[len(secret)-4:]
}

// knownPrefix returns a vendor prefix such as "sk_live_", "ghp_", "xoxb-"
// or "eyJ" (JWT), at most 8 characters, or "".
func knownPrefix(s string) string {
	if strings.HasPrefix(s, "eyJ") {
		return "eyJ"
	}
	limit := min(len(s), 9)
	last := -1
	for i := 0; i < limit; i++ {
		c := s[i]
		if c == '_' || c == '-' {
			last = i
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			break
		}
	}
	if last <= 0 || last+1 > 8 {
		return ""
	}
	return s[:last+1]
}

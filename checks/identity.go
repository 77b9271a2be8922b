package checks

import (
	"strings"
)

// Identity describes a credential as people recognise it without revealing
// it: type, header, scheme and its Fingerprint
// ("api_key Authorization: Bearer sk_live_…a1b2").
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

// vendorPrefixes are the public markers vendors put at the start of their
// keys: showing one says which kind of key is deployed (a test key in
// prod) and reveals nothing of the key. Longer prefixes of one vendor come
// first.
var vendorPrefixes = []string{
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "whsec_", // Stripe
	"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", // GitHub
	"xoxb-", "xoxp-", "xoxa-", "xoxe-", "xapp-", // Slack
	"glpat-", "gldt-", // GitLab
	"AKIA", "ASIA", // AWS access key ids
	"sk-ant-", "sk-proj-", // model APIs
	"SG.",     // SendGrid
	"shpat_",  // Shopify
	"npm_",    // npm
	"dop_v1_", // DigitalOcean
	"eyJ",     // a JWT: base64 of `{"`
}

// VendorPrefix returns the allow-listed vendor prefix s starts with, or "".
func VendorPrefix(s string) string {
	for _, p := range vendorPrefixes {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// Fingerprint shows what identifies a secret to a person and no more: an
// allow-listed vendor prefix, and for secrets of 24 characters or more the
// last four — never more than a quarter of the secret in all. A password
// has no vendor prefix and shows nothing of itself below 24 characters.
func Fingerprint(secret string) string {
	secret = strings.TrimSpace(secret)
	budget := len(secret) / 4
	shown := ""
	if p := VendorPrefix(secret); p != "" && len(p) <= budget {
		shown, budget = p, budget-len(p)
	}
	tail := ""
	if len(secret) >= 24 && budget >= 4 {
		tail = secret[len(secret)-4:]
	}
	return shown + "…" + tail
}

package slack

import (
	"net/url"
	"strings"
)

// The output rule: no run of minRun characters of a secret, and no shorter
// secret of at least minWhole characters whole.
const (
	minRun   = 12
	minWhole = 4
	masked   = "<redacted>"
)

// redactSecrets masks in s every run of minRun or more characters of any
// of secrets, and any secret of minWhole to minRun-1 characters whole.
// Matching windows of minRun rather than whole secrets also catches a
// secret that a server, a body limit or a truncation cut short.
// It is replaced by checks/redact on merge.
func redactSecrets(s string, secrets []string) string {
	if s == "" {
		return s
	}
	hide := make([]bool, len(s))
	found := false
	mark := func(needle string) {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], needle)
			if j < 0 {
				return
			}
			for k := i + j; k < i+j+len(needle); k++ {
				hide[k] = true
			}
			found = true
			i += j + 1
		}
	}
	for _, sec := range secrets {
		switch {
		case len(sec) >= minRun:
			for w := 0; w+minRun <= len(sec); w++ {
				mark(sec[w : w+minRun])
			}
		case len(sec) >= minWhole:
			mark(sec)
		}
	}
	if !found {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !hide[i] {
			b.WriteByte(s[i])
			continue
		}
		if i == 0 || !hide[i-1] {
			b.WriteString(masked)
		}
	}
	return strings.ToValidUTF8(b.String(), "")
}

// sensitiveForms are the secrets and the encodings a server may echo them
// in: as given, query-escaped and path-escaped.
func sensitiveForms(secrets ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range secrets {
		for _, f := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if f != "" && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// webhookSecrets are the parts of a webhook URL that grant posting: the
// URL, its path (/services/T…/B…/secret, as good as the URL) and the last
// segment, named on its own in case it is shorter than minRun.
func webhookSecrets(s string) []string {
	parts := []string{s}
	if u, err := url.Parse(s); err == nil && len(u.Path) > 1 {
		parts = append(parts, u.Path, u.EscapedPath())
		if i := strings.LastIndexByte(u.Path, '/'); i >= 0 && i < len(u.Path)-1 {
			parts = append(parts, u.Path[i+1:])
		}
	}
	return sensitiveForms(parts...)
}

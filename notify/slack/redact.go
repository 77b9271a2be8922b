package slack

import (
	"net/url"
	"strings"

	"github.com/credmon/credmon/checks/redact"
)

// redactSecrets applies the output rule (checks/redact) to text Slack sent
// back: no run of 12 characters of the bot token or a webhook URL, in any
// form they travel in.
func redactSecrets(s string, secrets []string) string {
	if s == "" {
		return s
	}
	return redact.NewSet(secrets...).String(s)
}

// sensitiveForms lists secrets without empty values; their encodings are
// added by redact.NewSet.
func sensitiveForms(secrets ...string) []string {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// webhookSecrets are the parts of a webhook URL that grant posting: the
// URL, its path (/services/T…/B…/secret, as good as the URL) and the last
// segment, named on its own in case it is shorter than a run.
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

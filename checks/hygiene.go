package checks

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/credmon/credmon/checks/config"
)

// exposedPrefixes are variable-name prefixes that front-end build tools
// inline into JavaScript bundles: a secret there is public.
var exposedPrefixes = []string{"NEXT_PUBLIC_", "VITE_", "REACT_APP_", "NUXT_PUBLIC_", "EXPO_PUBLIC_", "GATSBY_"}

// Hygiene inspects a resolved secret before anything is sent. It returns a
// missing_credential or malformed_credential failure whose hint says exactly
// what is wrong — never the secret itself.
func Hygiene(v config.Value, scheme string, ref config.Secret) *Failure {
	where := ref.Describe()
	if v.Text == "" {
		return &Failure{Cause: CauseMissingCredential,
			Detail: fmt.Sprintf("the secret (%s) is empty, so no credential would be sent", where),
			Hint:   secretSourceHint(ref, nil)}
	}
	if v.Source == config.SourceEnv {
		for _, p := range exposedPrefixes {
			if strings.HasPrefix(v.Ref, p) {
				return &Failure{Cause: CauseMalformedCredential,
					Detail: fmt.Sprintf("the secret comes from %s, a variable name that front-end builds inline into public JavaScript", v.Ref),
					Hint:   fmt.Sprintf("Treat the key as leaked: rotate it, and keep it in a server-only variable without the %s prefix.", p)}
			}
		}
	}
	t := v.Text
	switch {
	case strings.TrimRight(t, "\r\n") != t:
		return malformed(where, "ends with a newline", "Strip the trailing newline where the secret is stored (printf '%s' instead of echo; kubectl create secret --from-literal instead of a file written by an editor).")
	case strings.TrimSpace(t) != t:
		return malformed(where, "has leading or trailing whitespace", "Remove the surrounding spaces or tabs from the stored value.")
	case len(t) >= 2 && (t[0] == '"' && t[len(t)-1] == '"' || t[0] == '\'' && t[len(t)-1] == '\''):
		return malformed(where, "is wrapped in quotes, which would be sent as part of the key", "Store the value without the surrounding quotes (quotes in a .env or Compose file are often taken literally).")
	case hasSchemePrefix(t):
		return malformed(where, "already starts with an authentication scheme (e.g. \"Bearer \"), so the scheme would be sent twice", "Store only the bare key; credmon adds the scheme from the credential's `scheme` setting.")
	case strings.IndexFunc(t, unicode.IsSpace) >= 0:
		return malformed(where, "contains whitespace inside the key (a copy-paste across lines?)", "Re-copy the key as one unbroken string.")
	case strings.IndexFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return malformed(where, "contains control characters that cannot be sent in an HTTP header", "Re-copy the key; it contains invisible characters.")
	}
	if scheme != strings.TrimSpace(scheme) || strings.Contains(scheme, "  ") {
		return &Failure{Cause: CauseMalformedCredential,
			Detail: "the scheme has extra spaces, so the header would carry a double space",
			Hint:   "Remove the spaces around `scheme`; credmon puts exactly one space between scheme and key."}
	}
	if scheme != "" && scheme != "Bearer" && strings.EqualFold(strings.TrimRight(scheme, ": "), "bearer") {
		return &Failure{Cause: CauseMalformedCredential,
			Detail: fmt.Sprintf("the scheme is spelled %q; many servers match \"Bearer\" exactly", scheme),
			Hint:   "Set `scheme: Bearer` (capital B, no colon)."}
	}
	return nil
}

func malformed(where, what, hint string) *Failure {
	return &Failure{Cause: CauseMalformedCredential,
		Detail: fmt.Sprintf("the secret (%s) %s", where, what),
		Hint:   hint}
}

func hasSchemePrefix(t string) bool {
	l := strings.ToLower(t)
	for _, p := range []string{"bearer ", "basic ", "token ", "bearer:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// schemeless reports an Authorization value without an authentication
// scheme (`Authorization: KEY`): RFC 9110 §11.6.2 wants `scheme
// credentials`, though some APIs do take raw keys.
func schemeless(a *Authorization) bool {
	return a != nil && strings.EqualFold(a.Header, "Authorization") && !strings.ContainsRune(a.Value, ' ')
}

// schemeFinding is the hygiene finding for a schemeless Authorization
// value: a warning while the API accepts it, the cause (malformed_credential)
// once it answers with a challenge or a 400/401.
func schemeFinding(a *Authorization) *Finding {
	if !schemeless(a) {
		return nil
	}
	return &Finding{Cause: CauseMalformedCredential, Status: StatusWarn,
		Detail: fmt.Sprintf("The credential is sent as `Authorization: %s`, with no authentication scheme", a.redacted()),
		Hint:   "If the API documents raw keys in Authorization, nothing to do; otherwise set `scheme: Bearer` (or the scheme the API names) on the credential."}
}

package config

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// envWords are the words a variable, file or environment name uses for an
// environment, by the environment class they mean.
var envWords = map[string]string{
	"prod": "prod", "production": "prod", "prd": "prod", "live": "prod",
	"staging": "staging", "stage": "staging", "stg": "staging", "preprod": "staging", "uat": "staging",
	"dev": "dev", "development": "dev", "local": "dev",
	"test": "test", "testing": "test", "qa": "test", "sandbox": "test",
}

// words splits a name into lower-case words.
func words(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
}

// envClasses maps the environment classes that ws say to the word that
// says each.
func envClasses(ws []string) map[string]string {
	out := map[string]string{}
	for _, w := range ws {
		if c, ok := envWords[w]; ok {
			if _, seen := out[c]; !seen {
				out[c] = w
			}
		}
	}
	return out
}

// refWords are the words of a secret's source name that can name an
// environment: the first and last word of a variable (STAGING_KEY,
// KEY_DEV — not the TEST inside CREDMON_TEST_KEY), and of a file's base
// name, and any directory that is one word (/run/secrets/staging/key).
func refWords(s Secret) []string {
	edge := func(name string) []string {
		ws := words(name)
		switch len(ws) {
		case 0:
			return nil
		case 1:
			return ws
		}
		return []string{ws[0], ws[len(ws)-1]}
	}
	if s.Source == SourceEnv {
		return edge(s.Ref)
	}
	path := filepath.ToSlash(s.Ref)
	dir, base := filepath.Split(path)
	out := edge(strings.TrimSuffix(base, filepath.Ext(base)))
	for _, d := range strings.Split(dir, "/") {
		if ws := words(d); len(ws) == 1 {
			out = append(out, ws[0])
		}
	}
	return out
}

// OtherEnvironmentName reports whether a secret of environment env is read
// from a variable or file whose name says another environment
// (STAGING_PAYMENTS_KEY for prod, /run/secrets/prod-key for staging), and
// returns the word that says so. A name that also says env's own
// environment, or an environment whose name says none, is not judged.
func OtherEnvironmentName(env string, s Secret) (word string, ok bool) {
	if s.Source != SourceEnv && s.Source != SourceFile {
		return "", false
	}
	own := envClasses(words(env))
	if len(own) != 1 {
		return "", false
	}
	ref := envClasses(refWords(s))
	for c := range own {
		if _, same := ref[c]; same {
			return "", false
		}
	}
	classes := make([]string, 0, len(ref))
	for c := range ref {
		classes = append(classes, c)
	}
	if len(classes) == 0 {
		return "", false
	}
	sort.Strings(classes)
	return ref[classes[0]], true
}

// OtherEnvironmentMsg is the message for a secret whose name says another
// environment, shared by validate's warning and the check's finding.
func OtherEnvironmentMsg(env string, s Secret, word string) string {
	return fmt.Sprintf("the %s credential is read from %s, whose name says %q: a key of another environment deployed here, or a misnamed source", env, s.Describe(), word)
}

// KeySecret is the secret that identifies a credential's key: the client
// secret of a client-credentials grant, the refresh token of a refresh
// grant, else the secret.
func (c *Credential) KeySecret() Secret {
	switch c.Type {
	case TypeOAuth2ClientCredentials:
		return c.ClientSecret
	case TypeOAuth2RefreshToken:
		return c.RefreshToken
	}
	return c.Secret
}

// KeyMAC is a keyed fingerprint for comparing two credentials' keys
// within one process: the key is random and never leaves it. A basic
// credential's username is part of it, as in rotation's fingerprints.
type KeyMAC struct{ key []byte }

// NewKeyMAC returns a KeyMAC with a fresh random key.
func NewKeyMAC() KeyMAC {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return KeyMAC{key: k}
}

// Of fingerprints a credential's resolved key; "" for an empty one.
func (m KeyMAC) Of(c *Credential, value string) string {
	if value == "" {
		return ""
	}
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte("credmon/shared-key/v1\x00"))
	if c.Type == TypeBasic {
		h.Write([]byte(c.Username + "\x00"))
	}
	h.Write([]byte(value))
	return string(h.Sum(nil))
}

// SharedKeyMsg is the message for a key configured in two environments.
func SharedKeyMsg(env, cred, otherEnv, otherCred string) string {
	return fmt.Sprintf("%s/%s uses the same key as %s/%s: environments must not share a key (a leak or revocation in one is one in the other)", env, cred, otherEnv, otherCred)
}

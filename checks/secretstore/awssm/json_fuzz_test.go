package awssm

import (
	"strings"
	"testing"
)

// FuzzJSONField: a secret string is outside input. Extracting a key never
// panics, and an error never carries the secret string's content.
func FuzzJSONField(f *testing.F) {
	for _, s := range []string{`{"api_key":"sk_test_FAKE000000000000"}`, `{"api_key":1}`, `[]`, `"sk_test_FAKE"`, `{"a":"sk_test_FAKEvalue0000000","b":null}`, `{`, ``} {
		f.Add(s, "api_key")
	}
	f.Fuzz(func(t *testing.T, text, key string) {
		v, err := jsonField(text, key)
		if err != nil {
			if v != "" {
				t.Fatal("a value with an error")
			}
			msg := strings.ReplaceAll(err.Error(), key, "")
			for i := 0; i+12 <= len(text); i++ {
				if run := text[i : i+12]; !strings.Contains(key, run) && strings.Contains(msg, run) {
					t.Fatalf("error %q carries %q of the secret", err, run)
				}
			}
		}
	})
}

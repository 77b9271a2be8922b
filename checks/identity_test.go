package checks

import (
	"strings"
	"testing"
)

func TestFingerprintPolicy(t *testing.T) {
	cases := []struct{ secret, want string }{
		{"sk_live_FAKE000000000000000000000000000000000a1b2", "sk_live_…a1b2"}, // 48: prefix + last 4 fit a quarter
		{"sk_test_FAKE0000000000000000000000a1b2", "sk_test_…"},                // 38: the prefix fills the quarter
		{"sk_live_FAKEleakSTALE00000zz02", "…zz02"},                            // 30: the prefix alone is more than a quarter
		{"FAKE-api-key-0123456789abcdef", "…cdef"},                             // no vendor prefix
		{"FAKE0123456789ab", "…"},                                              // 16: nothing below 24
		{"FAKE-Summer-2026-pw!", "…"},                                          // a password shows nothing
		{"devkey_FAKEqqqqqqqqqqqqqqqqq", "…qqqq"},                              // "devkey_" is not an allow-listed prefix
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJGQUtFIn0.FAKEsignature", "eyJ…ture"},
	}
	for _, c := range cases {
		got := Fingerprint(c.secret)
		if got != c.want {
			t.Errorf("Fingerprint(%q) = %q, want %q", c.secret, got, c.want)
		}
		if shown := len(strings.ReplaceAll(got, "…", "")); shown > len(c.secret)/4 {
			t.Errorf("Fingerprint(%q) = %q shows %d of %d characters, more than a quarter", c.secret, got, shown, len(c.secret))
		}
	}
}

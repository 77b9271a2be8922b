package slack

import "testing"

func TestRedactSecrets(t *testing.T) {
	secrets := []string{"xoxb-FAKE-0123456789", "FAKEshort", "abc"}
	cases := []struct{ in, want string }{
		{"", ""},
		{"nothing here", "nothing here"},
		{"token xoxb-FAKE-0123456789 end", "token <redacted> end"},
		// A cut leaving 12 characters is masked; 11 are allowed.
		{"cut xoxb-FAKE-01", "cut <redacted>"},
		{"cut xoxb-FAKE-0", "cut xoxb-FAKE-0"},
		{"tail E-0123456789!", "tail <redacted>!"},
		{"twice xoxb-FAKE-0123456789xoxb-FAKE-0123456789.", "twice <redacted>."},
		{"short FAKEshort and FAKEshor", "short <redacted> and FAKEshor"},
		{"abc is too short to mask", "abc is too short to mask"},
	}
	for _, c := range cases {
		if got := redactSecrets(c.in, secrets); got != c.want {
			t.Errorf("redactSecrets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWebhookSecrets(t *testing.T) {
	got := webhookSecrets("https://hooks.slack.invalid/services/TFAKE/BFAKE/FAKEsecret")
	want := map[string]bool{
		"https://hooks.slack.invalid/services/TFAKE/BFAKE/FAKEsecret": true,
		"/services/TFAKE/BFAKE/FAKEsecret":                            true,
		"FAKEsecret":                                                  true, // shorter than 12: masked whole
	}
	have := map[string]bool{}
	for _, s := range got {
		have[s] = true
	}
	for w := range want {
		if !have[w] {
			t.Errorf("webhookSecrets lacks %q: %q", w, got)
		}
	}
	// The escaped forms come from the redactor.
	escaped := "https%3A%2F%2Fhooks.slack.invalid%2Fservices%2FTFAKE%2FBFAKE%2FFAKEsecret"
	if r := redactSecrets("echo "+escaped, got); r != "echo <redacted>" {
		t.Errorf("the query-escaped webhook URL survives: %q", r)
	}
}

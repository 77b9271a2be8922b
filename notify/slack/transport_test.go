package slack

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBearerOnlyToAPIOrigin: the bot token goes only to api_url's scheme
// and host (port included), whatever slack-go put into the request; the
// token never travels in a form body or a query.
func TestBearerOnlyToAPIOrigin(t *testing.T) {
	api := newSink(t)   // stands in for Slack
	other := newSink(t) // another port on 127.0.0.1
	apiURL, _ := url.Parse(api.srv.URL + "/api/")
	otherURL, _ := url.Parse(other.srv.URL)
	asLocalhost := strings.Replace(api.srv.URL, "127.0.0.1", "localhost", 1)
	client := &http.Client{Transport: newBearerTransport(http.DefaultTransport, longToken, apiURL)}
	send := func(target string) {
		t.Helper()
		form := url.Values{"token": {longToken}, "channel": {"#credentials"}}.Encode()
		req, err := http.NewRequest(http.MethodPost, target+"/api/chat.postMessage?token="+url.QueryEscape(longToken), strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+longToken) // as slack-go does on some calls
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	send(api.srv.URL)
	send(other.srv.URL)
	send("http://localhost:" + otherURL.Port())
	send(asLocalhost) // same port, another host name: not api_url's host

	got := api.requests()
	if len(got) < 1 || got[0].Header.Get("Authorization") != "Bearer "+longToken {
		t.Fatalf("api_url's host did not get the token: %+v", got)
	}
	elsewhere := append(other.requests(), got[1:]...)
	if len(elsewhere) != 3 {
		t.Fatalf("%d requests elsewhere, want 3", len(elsewhere))
	}
	for _, r := range append(elsewhere, got[0]) {
		if r.Form == nil {
			r.Form, _ = url.ParseQuery(r.Body)
		}
		if r.Form.Get("channel") != "#credentials" {
			t.Errorf("form lost its fields: %q", r.Body)
		}
		assertNoSecretRun(t, "body", r.Body, longToken)
		assertNoSecretRun(t, "query", r.Query, longToken, url.QueryEscape(longToken))
	}
	for _, r := range elsewhere {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("%s got Authorization %q", r.Path, a)
		}
	}
}

// TestBodyRecorderRedactsBeforeCut: what the recorder keeps, and what it
// hands on to slack-go, holds no 12-character run of a secret, however
// the server placed or cut it, and is at most maxErrorBody bytes.
func TestBodyRecorderRedactsBeforeCut(t *testing.T) {
	const hook = "https://hooks.slack.invalid" + longWebhookPath
	secrets := append(webhookSecrets(hook), sensitiveForms(longToken)...)
	pad := func(n int) string { return strings.Repeat("x", n) }
	bodies := map[string]string{
		"255 bytes, token at 240":         pad(240) + longToken[:15],
		"token straddles the cut":         pad(244) + longToken + pad(100),
		"url straddles the cut":           pad(250) + hook + pad(5000),
		"query-escaped url at 241":        pad(241) + url.QueryEscape(hook),
		"path-escaped url, long body":     pad(100) + url.PathEscape(hook) + pad(9000),
		"secret part alone, odd length":   pad(233) + longHookSecret[:23],
		"token at the read limit":         pad(readErrorBody-14) + longToken,
		"everything, twice, back to back": longToken + hook + longToken + hook,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if secretRun(body, longSecrets(hook)...) == "" {
				t.Fatalf("the body echoes no secret, so the case proves nothing")
			}
			rec := &bodyRecorder{base: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
			}), secrets: secrets}
			req, _ := http.NewRequest(http.MethodPost, hook, nil)
			resp, err := rec.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			handedOn, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if len(rec.body) > maxErrorBody || len(rec.body) == 0 {
				t.Errorf("kept %d bytes, want 1..%d", len(rec.body), maxErrorBody)
			}
			if string(handedOn) != rec.body {
				t.Errorf("slack-go got %q, the recorder kept %q", handedOn, rec.body)
			}
			assertNoSecretRun(t, "kept body", rec.body, longSecrets(hook)...)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

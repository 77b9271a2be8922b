package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/notify"
)

const fakeSecret = "FAKEwebhookSECRET-0000-not-real"

// docBody is the body as docs/webhook.md lists it, written from the doc
// rather than from the notifier's type.
type docBody struct {
	Version     string    `json:"version"`
	ID          string    `json:"id"`
	IncidentKey string    `json:"incident_key"`
	Event       string    `json:"event"`
	At          time.Time `json:"at"`
	Since       time.Time `json:"since"`
	Env         string    `json:"env"`
	Check       string    `json:"check"`
	Credential  string    `json:"credential"`
	Identity    string    `json:"identity"`
	Status      string    `json:"status"`
	Cause       string    `json:"cause"`
	PrevCause   string    `json:"previous_cause"`
	Severity    string    `json:"severity"`
	HTTPStatus  int       `json:"http_status"`
	Detail      string    `json:"detail"`
	Fix         string    `json:"fix"`
	Band        string    `json:"band"`
	Findings    []struct {
		Cause, Detail, Fix string
	} `json:"findings"`
	Challenge *struct {
		Scheme           string `json:"scheme"`
		Realm            string `json:"realm"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Scope            string `json:"scope"`
	} `json:"challenge"`
	Token *struct {
		Iss string     `json:"iss"`
		Aud []string   `json:"aud"`
		Exp *time.Time `json:"exp"`
		Iat *time.Time `json:"iat"`
		Nbf *time.Time `json:"nbf"`
	} `json:"token"`
	StatusURL string `json:"status_url"`
}

// receiver verifies every request as a receiver following the docs does:
// POST, Content-Type application/json, the signature recomputed over the
// raw body with the shared secret, then the body decoded strictly.
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu     sync.Mutex
	bodies []docBody
	reply  func(w http.ResponseWriter) // nil: 204
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{t: t, secret: secret}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write(raw)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	switch {
	case r.Method != http.MethodPost:
		rc.t.Errorf("method %s", r.Method)
	case r.Header.Get("Content-Type") != "application/json":
		rc.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	case !hmac.Equal([]byte(r.Header.Get("X-Credmon-Signature")), []byte(want)):
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b docBody
	if err := dec.Decode(&b); err != nil {
		rc.t.Errorf("body does not follow docs/webhook.md: %v\n%s", err, raw)
	}
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, b)
	reply := rc.reply
	rc.mu.Unlock()
	if reply != nil {
		reply(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func newHook(t *testing.T, url, secret string) *Notifier {
	t.Helper()
	n, err := New(Options{URL: url, Secret: secret, StatusURL: "https://credmon.example/"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sample() notify.Message {
	exp := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	return notify.Message{
		ID: "prod/billing/auth/1-1-opened", IncidentKey: "prod/billing/auth", Event: notify.EventOpened,
		At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Since: time.Date(2026, 3, 1, 8, 58, 0, 0, time.UTC),
		Env: "prod", Check: "billing", Credential: "billing-client", Identity: "oauth2 client credmon-prod",
		Status: checks.StatusFail, Cause: checks.CauseTokenExpired, HTTPStatus: 401,
		Detail: "The token expired.", Hint: "Check the clock.",
		Findings:  []checks.Finding{{Cause: checks.CauseMissingChallenge, Detail: "no challenge"}},
		Challenge: &challenge.Challenge{Scheme: "Bearer", Error: "invalid_token", ErrorDescription: "expired"},
		Token:     &checks.TokenInfo{Issuer: "https://auth.example/", ExpiresAt: &exp},
	}
}

func TestSignedBody(t *testing.T) {
	rc := newReceiver(t, fakeSecret)
	n := newHook(t, rc.srv.URL, fakeSecret)
	if _, err := n.Notify(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	resolved := sample()
	resolved.Event, resolved.Cause, resolved.PrevCause, resolved.Status = notify.EventResolved, checks.CauseOK, checks.CauseTokenExpired, checks.StatusOK
	resolved.ID = "prod/billing/auth/1-2-resolved"
	if _, err := n.Notify(context.Background(), resolved); err != nil {
		t.Fatal(err)
	}
	if len(rc.bodies) != 2 {
		t.Fatalf("%d bodies", len(rc.bodies))
	}
	b := rc.bodies[0]
	if b.Version != "1" || b.Event != "opened" || b.Cause != "token_expired" || b.Severity != "critical" ||
		b.Challenge == nil || b.Challenge.Error != "invalid_token" || b.Token == nil || b.Token.Exp == nil ||
		len(b.Findings) != 1 || b.StatusURL != "https://credmon.example/" || b.Fix != "Check the clock." {
		t.Errorf("opened body %+v", b)
	}
	// A resolution keeps the incident's severity, so a receiver can match it.
	if r := rc.bodies[1]; r.Event != "resolved" || r.PrevCause != "token_expired" || r.Severity != "critical" || r.IncidentKey != b.IncidentKey {
		t.Errorf("resolved body %+v", r)
	}
}

// TestWrongSecretIsRefused: a receiver with another secret refuses the
// request, and that is a failure retrying cannot fix.
func TestWrongSecretIsRefused(t *testing.T) {
	rc := newReceiver(t, "FAKEanotherSECRET-1111")
	n := newHook(t, rc.srv.URL, fakeSecret)
	retry, err := n.Notify(context.Background(), sample())
	if err == nil || retry || !strings.Contains(err.Error(), "401") {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"version":"1"}`)
	sig := Sign([]byte(fakeSecret), body)
	if !Verify([]byte(fakeSecret), body, sig) || Verify([]byte(fakeSecret), append(body, ' '), sig) || Verify([]byte("other"), body, sig) {
		t.Error("Verify disagrees with Sign")
	}
}

// TestEchoedSecretStaysOut: a receiver that echoes the secret in its error
// body does not get it into the error.
func TestEchoedSecretStaysOut(t *testing.T) {
	rc := newReceiver(t, fakeSecret)
	n := newHook(t, rc.srv.URL, fakeSecret)
	for _, reply := range []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { http.Error(w, "secret was "+fakeSecret, 500) },
		func(w http.ResponseWriter) { w.Header().Set("Retry-After", "5"); http.Error(w, fakeSecret, 429) },
		func(w http.ResponseWriter) { http.Error(w, "hmac key "+fakeSecret, 403) },
	} {
		rc.reply = reply
		_, err := n.Notify(context.Background(), sample())
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), fakeSecret[:12]) {
			t.Errorf("error leaks the secret: %v", err)
		}
		var ra notify.RetryAfter
		if errors.As(err, &ra) && ra.RetryAfter() != 0 && ra.RetryAfter() != 5*time.Second {
			t.Errorf("RetryAfter %s", ra.RetryAfter())
		}
	}
}

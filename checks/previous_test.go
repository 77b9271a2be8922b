package checks_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

const previousKey = "sk_live_FAKE1111111111111111e5f6"

func TestRunWithPreviousPresentsThePreviousKey(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := authAPI(t, "Bearer "+previousKey, nil)
	// Record what the API receives, so the test proves which key was sent.
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		inner.ServeHTTP(w, r)
	})

	cred := apiKeyCred(config.Literal(liveKey))
	cred.Previous = config.Literal(previousKey)
	chk := newFixture(srv.URL, cred).build(t)

	res, configured := chk.RunWithPrevious(context.Background(), time.Now())
	if !configured {
		t.Fatal("configured = false for an api_key with previous")
	}
	wantCause(t, res, checks.CauseOK)
	// The same check with its current key is refused by this API.
	wantCause(t, chk.Run(context.Background(), time.Now()), checks.CauseInvalidToken)

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "Bearer "+previousKey || got[1] != "Bearer "+liveKey {
		t.Fatalf("API received %q, want the previous key then the current one", got)
	}
}

func TestRunWithPreviousNotConfigured(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	noPrev := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).build(t)
	if _, ok := noPrev.RunWithPrevious(context.Background(), time.Now()); ok {
		t.Error("configured = true without previous")
	}
	oauth := &config.Credential{Type: config.TypeOAuth2ClientCredentials, TokenURL: srv.URL, ClientID: "id",
		ClientSecret: config.Literal(liveKey), Previous: config.Literal(previousKey)}
	if _, ok := newFixture(srv.URL, oauth).build(t).RunWithPrevious(context.Background(), time.Now()); ok {
		t.Error("configured = true for an oauth2 credential")
	}
}

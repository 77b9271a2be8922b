package checks_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// bearer and api_key share one implementation: each sends exactly the
// header its configuration names and says so in its identity, with its
// own type name.
func TestHeaderKinds(t *testing.T) {
	empty := ""
	token := "Token"
	for _, tc := range []struct {
		typ, header string
		scheme      *string
		wantHeader  string
		wantValue   string
		identity    string
	}{
		{config.TypeBearer, "", nil, "Authorization", "Bearer " + liveKey, "bearer Authorization: Bearer sk_live_…a1b2"},
		{config.TypeAPIKey, "", nil, "Authorization", "Bearer " + liveKey, "api_key Authorization: Bearer sk_live_…a1b2"},
		{config.TypeAPIKey, "X-API-Key", nil, "X-API-Key", liveKey, "api_key X-API-Key: sk_live_…a1b2"},
		{config.TypeBearer, "", &token, "Authorization", "Token " + liveKey, "bearer Authorization: Token sk_live_…a1b2"},
		{config.TypeAPIKey, "Authorization", &empty, "Authorization", liveKey, "api_key Authorization: sk_live_…a1b2"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.Header.Values(tc.wantHeader)) != 1 || r.Header.Get(tc.wantHeader) != tc.wantValue {
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		cred := &config.Credential{Type: tc.typ, Secret: config.Literal(liveKey), Header: tc.header, Scheme: tc.scheme}
		r := newFixture(srv.URL, cred).run(t)
		srv.Close()
		if r.Cause != checks.CauseOK || r.Identity != tc.identity {
			t.Errorf("%s header=%q: cause %s (%s), identity %q; want ok, %q", tc.typ, tc.header, r.Cause, r.Detail, r.Identity, tc.identity)
		}
	}
}

package checks

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

const fuzzKey = "sk_live_FAKEfuzzdiagnose0000000000f1"

// FuzzDiagnoseAuthAnswer feeds arbitrary statuses, challenges, Date
// headers and bodies to the diagnosis of an exchange, for each way a
// credential can be sent: it must never panic, must always settle a cause
// with its status, and must never show the key, even when the server
// quotes it.
func FuzzDiagnoseAuthAnswer(f *testing.F) {
	f.Add(400, `Bearer realm="api", error="invalid_request"`, "", `{"error":"invalid_request"}`, uint8(0))
	f.Add(401, `Bearer realm="api"`, "Mon, 02 Jan 2006 15:04:05 GMT", "No Authorization header", uint8(1))
	f.Add(401, `Basic realm="a", Bearer error="invalid_token", error_description="Jwt expired"`, "", "", uint8(2))
	f.Add(403, `Bearer error="invalid_token", error_description="`+fuzzKey+`"`, "", fuzzKey, uint8(0))
	f.Add(401, `Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: Malformed token"`, "", "jwt malformed", uint8(3))
	f.Add(400, fuzzKey+` realm="echo", `+fuzzKey, "", "", uint8(3)) // a server that echoes the key as a scheme
	f.Add(500, `Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`, "garbage", "", uint8(1))
	forms := []struct{ header, scheme string }{{"Authorization", "Bearer"}, {"Authorization", ""}, {"X-API-Key", ""}, {"Authorization", "Token"}}
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	exp := now.Add(2 * time.Minute)
	f.Fuzz(func(t *testing.T, status int, wwwAuth, date, body string, form uint8) {
		if status < 100 || status > 599 {
			return
		}
		fm := forms[int(form)%len(forms)]
		cred := &config.Credential{Name: "cred", Env: "prod", Type: config.TypeAPIKey, Secret: config.Literal(fuzzKey), Header: fm.header, Scheme: &fm.scheme}
		cfg := &config.Config{Environments: map[string]*config.Environment{"prod": {Name: "prod",
			Credentials: map[string]*config.Credential{"cred": cred},
			Checks:      []*config.Check{{Name: "probe", Env: "prod", URL: "https://api.example.com/", Credential: "cred"}}}}}
		cs, err := Build(cfg, Deps{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		c := cs[0]
		auth, err := c.Cred.Authorize(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("WWW-Authenticate", wwwAuth)
		if date != "" {
			h.Set("Date", date)
		}
		ex := &exchange{status: status, header: h, body: []byte(body), sent: now, latency: time.Millisecond, sensitive: []*redact.Set{auth.Sensitive}}
		res := Result{Env: "prod", Check: "probe", Token: &TokenInfo{ExpiresAt: &exp}}
		c.diagnose(&res, ex, auth, nil)
		res.redact(auth.Sensitive)
		if res.Cause == "" || res.Status != Verdict(res.Cause, res.Findings) {
			t.Fatalf("cause %q status %q", res.Cause, res.Status)
		}
		out := res.Detail + res.Hint
		for _, f := range res.Findings {
			out += f.Detail + f.Hint
		}
		for i := 0; i+12 <= len(fuzzKey); i++ {
			if strings.Contains(out, fuzzKey[i:i+12]) {
				t.Fatalf("output shows %q of the key: %s", fuzzKey[i:i+12], out)
			}
		}
	})
}

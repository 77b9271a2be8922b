package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/credmon/credmon/checks/sandbox"
)

// grant posts a token request; basicID/basicSecret, when set, go in HTTP Basic.
func grant(t *testing.T, s *sandbox.Sandbox, form url.Values, basicID, basicSecret string) reply {
	t.Helper()
	return call(t, http.MethodPost, s.TokenURL(), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Body = http.NoBody
		if enc := form.Encode(); enc != "" {
			r.Body = io.NopCloser(strings.NewReader(enc))
			r.ContentLength = int64(len(enc))
		}
		if basicID != "" {
			r.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
		}
	})
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return c
}

func TestTokenGrant(t *testing.T) {
	s := start(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	withForm := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}

	for _, tt := range []struct {
		name     string
		form     url.Values
		basicID  string
		basicSec string
	}{
		{"basic auth", cc, sandbox.ClientID, sandbox.ClientSecret},
		{"form auth", withForm(cc, "client_id", sandbox.ClientID, "client_secret", sandbox.ClientSecret), "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := grant(t, s, tt.form, tt.basicID, tt.basicSec)
			if r.status != 200 {
				t.Fatalf("status %d, want 200 (body %v)", r.status, r.body)
			}
			if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(300) || r.body["scope"] != "billing.read" {
				t.Errorf("body %v, want token_type Bearer, expires_in 300, scope billing.read", r.body)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			tok, _ := r.body["access_token"].(string)
			c := claimsOf(t, tok)
			if c["iss"] != s.Issuer() || c["aud"] != s.Audience() || c["sub"] != sandbox.ClientID || c["scope"] != "billing.read" {
				t.Errorf("claims %v, want iss %s aud %s sub %s scope billing.read", c, s.Issuer(), s.Audience(), sandbox.ClientID)
			}
			if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 300 {
				t.Errorf("exp-iat = %v, want 300", exp-iat)
			}
			if got := call(t, http.MethodGet, s.URL()+sandbox.PathBilling, bearer(tok)).status; got != 200 {
				t.Errorf("granted token on %s: %d, want 200", sandbox.PathBilling, got)
			}
		})
	}
	if got := s.Stats().Grants[sandbox.ClientID]; got != 2 {
		t.Errorf("Grants[%s] = %d, want 2", sandbox.ClientID, got)
	}
}

func TestTokenDenials(t *testing.T) {
	s := start(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	for _, tt := range []struct {
		name      string
		form      url.Values
		basicID   string
		basicSec  string
		status    int
		errCode   string
		challenge string
	}{
		{"wrong secret, basic", cc, sandbox.ClientID, "cs_FAKEwrong", 401, "invalid_client", `Basic realm="sandbox"`},
		{"wrong secret, form", url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {"cs_FAKEwrong"}},
			"", "", 401, "invalid_client", ""},
		{"another client's secret", cc, sandbox.ClientID, sandbox.RevokedClientSecret, 401, "invalid_client", `Basic realm="sandbox"`},
		{"unknown client", cc, "nobody", sandbox.ClientSecret, 401, "invalid_client", `Basic realm="sandbox"`},
		{"no client authentication", cc, "", "", 401, "invalid_client", ""},
		{"two authentication methods", url.Values{"grant_type": {"client_credentials"}, "client_secret": {sandbox.ClientSecret}},
			sandbox.ClientID, sandbox.ClientSecret, 400, "invalid_request", ""},
		{"password grant", url.Values{"grant_type": {"password"}}, sandbox.ClientID, sandbox.ClientSecret, 400, "unsupported_grant_type", ""},
		{"no grant_type", url.Values{}, sandbox.ClientID, sandbox.ClientSecret, 400, "invalid_request", ""},
		{"scope not allowed", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.write"}},
			sandbox.RevokedClientID, sandbox.RevokedClientSecret, 400, "invalid_scope", ""},
		{"unknown audience", url.Values{"grant_type": {"client_credentials"}, "audience": {"https://api.other.example"}},
			sandbox.ClientID, sandbox.ClientSecret, 400, "invalid_target", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := grant(t, s, tt.form, tt.basicID, tt.basicSec)
			if r.status != tt.status || r.body["error"] != tt.errCode {
				t.Errorf("got %d %v, want %d error=%s", r.status, r.body, tt.status, tt.errCode)
			}
			if _, ok := r.body["access_token"]; ok {
				t.Error("a denial carried an access_token")
			}
			if got := r.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
		})
	}
	if r := call(t, http.MethodGet, s.TokenURL(), nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint: %d, want 405", r.status)
	}
	st := s.Stats()
	if len(st.Grants) != 0 {
		t.Errorf("Grants = %v after denials only, want none", st.Grants)
	}
	if st.Denials["invalid_client"] != 5 || st.Denials["invalid_scope"] != 1 {
		t.Errorf("Denials = %v, want invalid_client 5, invalid_scope 1", st.Denials)
	}
}

func TestRevokedClientGetsTokensTheAPIRefuses(t *testing.T) {
	s := start(t)
	r := grant(t, s, url.Values{"grant_type": {"client_credentials"}}, sandbox.RevokedClientID, sandbox.RevokedClientSecret)
	if r.status != 200 {
		t.Fatalf("grant for %s: %d %v, want 200", sandbox.RevokedClientID, r.status, r.body)
	}
	tok, _ := r.body["access_token"].(string)
	for _, path := range []string{sandbox.PathLedger, sandbox.PathBilling} {
		r := call(t, http.MethodGet, s.URL()+path, bearer(tok))
		if want := invalidToken("token revoked"); r.status != 401 || r.header.Get("WWW-Authenticate") != want {
			t.Errorf("%s: %d %q, want 401 %q", path, r.status, r.header.Get("WWW-Authenticate"), want)
		}
	}
	if got := s.Stats().Grants[sandbox.RevokedClientID]; got != 1 {
		t.Errorf("Grants[%s] = %d, want 1", sandbox.RevokedClientID, got)
	}
}

// TestOAuth2Library drives the token endpoint with x/oauth2, which credmon
// uses, in its default auto-detected auth style.
func TestOAuth2Library(t *testing.T) {
	s := start(t)
	conf := clientcredentials.Config{
		ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret, TokenURL: s.TokenURL(),
		Scopes: []string{"billing.read"}, EndpointParams: url.Values{"audience": {s.Audience()}},
	}
	tok, err := conf.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if r := call(t, http.MethodGet, s.URL()+sandbox.PathBilling, bearer(tok.AccessToken)); r.status != 200 {
		t.Errorf("x/oauth2 token on %s: %d, want 200", sandbox.PathBilling, r.status)
	}

	conf.ClientSecret = "cs_FAKEwrong"
	_, err = conf.Token(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("wrong secret: %v, want a RetrieveError invalid_client", err)
	}
	if strings.Contains(err.Error(), "cs_FAKEwrong") {
		t.Error("the token endpoint echoed the client secret")
	}
	if got := s.Stats().Grants[sandbox.ClientID]; got != 1 {
		t.Errorf("Grants = %d, want 1", got)
	}
}

package checks_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// Hostile or broken servers must never crash or hang a probe.

func TestHostileHugeBody(t *testing.T) {
	var written int64
	srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 800 { // 50 MiB
			n, err := w.Write(chunk)
			written += int64(n)
			if err != nil {
				return
			}
		}
	})
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	f.check.Expect.JSON = map[string]any{"ok": true}
	r := f.run(t)
	wantCause(t, r, checks.CauseUnexpectedStatus) // the body is not JSON: judged on the first MiB only
	srv.Close()
	if written >= 50<<20 {
		t.Errorf("the probe read the whole 50 MiB body")
	}
}

func TestHostileHugeHeader(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Junk", strings.Repeat("a", 1<<20))
		w.Header().Set("WWW-Authenticate", strings.Repeat(`Bearer x="`, 1000))
	})
	r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
	wantCause(t, r, checks.CauseUnreachable)
}

func TestHostileGarbageChallenge(t *testing.T) {
	for _, h := range []string{`"""`, `=,=,=`, "Bearer \x00\x01 error=", strings.Repeat(",", 100000), `Bearer error="invalid_token`, "Bearer realm=\"\\"} {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Www-Authenticate"] = []string{h}
			w.WriteHeader(http.StatusUnauthorized)
		})
		r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		// Either diagnosed as a 401, or refused by the HTTP client: never ok, never a crash.
		if r.Status != checks.StatusFail && r.Status != checks.StatusError {
			t.Errorf("challenge %.20q: status %s", h, r.Status)
		}
	}
}

func TestHostileGarbageJWT(t *testing.T) {
	for _, tok := range []string{"eyJ.eyJ.x", "eyJhbGciOiJub25lIn0.bm90IGpzb24.x", "eyJhbGciOiJub25lIn0.W10.", "eyJhbGciOiJub25lIn0." + strings.Repeat("A", 100000) + ".x"} {
		srv := authAPI(t, "Bearer "+tok, nil)
		r := newFixture(srv.URL, bearerCred(config.Literal(tok))).run(t)
		if r.Status != checks.StatusOK {
			t.Errorf("garbage JWT: %s %s", r.Cause, r.Detail)
		}
	}
}

func TestHostileServerNeverAnswers(t *testing.T) {
	// Accepts the connection, reads the request, never writes.
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hold)
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	f.check.Timeout = config.Duration(300 * time.Millisecond)
	wantCause(t, f.run(t), checks.CauseUnreachable)
}

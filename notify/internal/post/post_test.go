package post

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks/redact"
)

const fakeKey = "FAKEroutingKEY0123456789abcdef00"

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"99999999999":                   24 * time.Hour,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0, // past
	} {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "120", "Fri, 02 Jan 2026 03:04:35 GMT", "-1", "1e9", "\x00"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := ParseRetryAfter(s, now); d < 0 || d > 24*time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %s, outside [0, 24h]", s, d)
		}
	})
}

func send(t *testing.T, h http.HandlerFunc) (bool, error) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return Send(context.Background(), Client(nil), Request{
		URL: srv.URL + "/x?k=" + fakeKey, Target: "test", Body: []byte(`{}`), Secrets: redact.NewSet(fakeKey),
	})
}

func TestSendClassifies(t *testing.T) {
	cases := []struct {
		name  string
		h     http.HandlerFunc
		retry bool
		after time.Duration
		ok    bool
	}{
		{"202", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) }, false, 0, true},
		{"400", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad "+fakeKey, 400) }, false, 0, false},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "9")
			w.WriteHeader(429)
		}, true, 9 * time.Second, false},
		{"429 without Retry-After", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) }, true, 0, false},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, true, 0, false},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.invalid/steal?k="+fakeKey, http.StatusTemporaryRedirect)
		}, false, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			retry, err := send(t, c.h)
			if c.ok {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if retry != c.retry || pe.RetryAfter() != c.after {
				t.Errorf("retry=%v after=%s, want %v %s (%v)", retry, pe.RetryAfter(), c.retry, c.after, err)
			}
			if strings.Contains(err.Error(), fakeKey[:12]) || strings.Contains(pe.Body, fakeKey[:12]) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

// TestSendNoRedirect: the redirect target never sees the request.
func TestSendNoRedirect(t *testing.T) {
	hit := make(chan struct{}, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
	defer other.Close()
	retry, err := send(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusPermanentRedirect)
	})
	if err == nil || retry {
		t.Fatalf("redirect: retry=%v err=%v", retry, err)
	}
	if !strings.Contains(err.Error(), "not followed") {
		t.Errorf("err = %v", err)
	}
	select {
	case <-hit:
		t.Fatal("the redirect was followed")
	default:
	}
}

// TestSendNetworkErrorHidesURL: a connection error names the target, not
// the URL, whose query holds the key here.
func TestSendNetworkErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	retry, err := Send(context.Background(), Client(nil), Request{URL: u + "/?k=" + fakeKey, Target: "test", Body: []byte(`{}`), Secrets: redact.NewSet(fakeKey)})
	if err == nil || !retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if strings.Contains(err.Error(), fakeKey[:12]) || strings.Contains(err.Error(), u) {
		t.Errorf("error shows the URL: %v", err)
	}
}

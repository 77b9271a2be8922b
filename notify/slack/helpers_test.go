package slack

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
)

var (
	t0  = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	exp = t0.Add(-3 * time.Hour)
)

// opened is a realistic opening message for an invalid token in prod.
func opened() notify.Message {
	return notify.Message{
		ID:          "msg-1",
		IncidentKey: "prod/payments-account/auth",
		Event:       notify.EventOpened,
		At:          t0,
		Since:       t0.Add(-2 * time.Minute),
		Env:         "prod",
		Check:       "payments-account",
		Credential:  "payments-key",
		Identity:    "api_key Authorization: Bearer sk_live_…a1b2",
		Status:      checks.StatusFail,
		Cause:       checks.CauseInvalidToken,
		HTTPStatus:  401,
		Detail:      "The API answered 401 and says the token is invalid: signature verification failed.",
		Hint:        "Issue a new key in the payments dashboard and update PROD_PAYMENTS_KEY.",
		Findings: []checks.Finding{{
			Cause:  checks.CauseServerClockSkew,
			Detail: "The server's clock is 41s ahead of ours.",
			Hint:   "Check NTP on this host.",
		}},
		Challenge: &challenge.Challenge{
			Scheme: "Bearer",
			Realm:  "payments",
			Error:  "invalid_token",
			Params: map[string]string{"realm": "payments", "error": "invalid_token", "error_description": "signature verification failed"},
		},
		Token: &checks.TokenInfo{
			Issuer:    "https://auth.example.com/",
			Audience:  []string{"https://api.example.com"},
			ExpiresAt: &exp,
		},
	}
}

// followUp is the same incident at a later transition.
func followUp(ev notify.Event, id string) notify.Message {
	m := opened()
	m.ID, m.Event = id, ev
	m.At = m.At.Add(4 * time.Hour)
	switch ev {
	case notify.EventCauseChanged:
		m.PrevCause, m.Cause = checks.CauseInvalidToken, checks.CauseTokenExpired
	case notify.EventResolved:
		m.Status, m.PrevCause, m.Cause = checks.StatusOK, checks.CauseTokenExpired, checks.CauseOK
		m.Detail, m.Hint, m.HTTPStatus, m.Challenge, m.Findings = "The API answered 200.", "", 200, nil, nil
	}
	return m
}

// memKV is an in-memory store.KV for thread records.
type memKV struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

var _ store.KV = (*memKV)(nil)

func (k *memKV) Get(_ context.Context, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return nil, k.fail
	}
	v, ok := k.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (k *memKV) Set(_ context.Context, key string, val []byte, _ time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	if k.m == nil {
		k.m = map[string][]byte{}
	}
	k.m[key] = val
	return nil
}

func (k *memKV) CompareAndSwap(context.Context, string, []byte, []byte, time.Duration) (bool, error) {
	return false, errors.New("memKV: not used")
}

func (k *memKV) Scan(context.Context, string) (map[string][]byte, error) {
	return nil, errors.New("memKV: not used")
}

// logBuffer captures everything the notifier logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newBot returns a bot-mode notifier against f.
func newBot(t *testing.T, f *fakeSlack, mod func(*Options)) *Notifier {
	t.Helper()
	opts := Options{BotToken: fakeToken, Channel: "#credentials", APIURL: f.apiURL(), Threads: KVThreads(&memKV{}), Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&opts)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func mustNotify(t *testing.T, n *Notifier, m notify.Message) {
	t.Helper()
	retry, err := n.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("Notify(%s): retry=%v err=%v", m.Event, retry, err)
	}
}

// blockText concatenates every text in a blocks payload, for assertions.
func blockText(blocks []any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(blocks)
	return b.String()
}

package alertmanager

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// stores are the stores open alerts can live in: one process's memory, or
// the real Redis replicas share.
func stores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"memstore": func(t *testing.T) store.Store { return memstore.New() },
		"redis": func(t *testing.T) store.Store {
			client, prefix := storetest.Redis(t)
			return redisstore.New(client, prefix)
		},
	}
}

func message(ev notify.Event, check string, cause, prev checks.Cause, since time.Time) notify.Message {
	return notify.Message{
		ID: "prod/" + check + "/auth/" + string(ev) + "-" + string(cause), IncidentKey: "prod/" + check + "/auth",
		Event: ev, At: time.Now(), Since: since, Env: "prod", Check: check, Credential: check + "-key",
		Identity: "api_key Authorization: Bearer sk_live_…a1b2", Status: cause.Status(), Cause: cause, PrevCause: prev,
		HTTPStatus: 401, Detail: "The API refused the key.", Hint: "Issue a new key and update the secret.",
	}
}

func newNotifier(t *testing.T, kv store.KV, every time.Duration, urls ...string) *Notifier {
	t.Helper()
	n, err := New(Options{
		URLs: urls, KV: kv, RepostEvery: every,
		RunbookURL:   "https://runbooks.example/credmon/{{cause}}",
		GeneratorURL: "https://credmon.example/",
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustNotify(t *testing.T, n *Notifier, m notify.Message) {
	t.Helper()
	if retry, err := n.Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify(%s %s): retry=%v %v", m.Event, m.Check, retry, err)
	}
}

// TestAlertmanagerGroupsAndResolves runs a real Alertmanager: two
// incidents of one environment arrive as one grouped notification, the
// API shows each alert with credmon's labels and annotations, the
// restatement keeps them active past their first endsAt, a resolution
// reaches the receiver as resolved, and an alert no longer restated ends.
func TestAlertmanagerGroupsAndResolves(t *testing.T) {
	rec := newRecorder(t)
	a := startAM(t, rec.srv.URL)
	const every = time.Second
	n := newNotifier(t, memstore.New(), every, a.url)

	since := time.Now().Add(-time.Minute).Truncate(time.Second)
	mustNotify(t, n, message(notify.EventOpened, "payments", checks.CauseRevoked, "", since))
	mustNotify(t, n, message(notify.EventOpened, "billing", checks.CauseUnauthorized, "", since))

	await(t, "one firing notification grouping both alerts", func() bool {
		for _, nt := range rec.notifications() {
			if nt.Status == "firing" && hasAlert(nt, "firing", "payments") && hasAlert(nt, "firing", "billing") {
				if nt.GroupLabels["env"] != "prod" || nt.GroupLabels["alertname"] != AlertName {
					t.Errorf("group labels %v", nt.GroupLabels)
				}
				return true
			}
		}
		return false
	})

	got, ok := a.active(t, map[string]string{"check": "payments"})
	if !ok {
		t.Fatal("payments alert not active")
	}
	wantLabels := `alertname="CredmonCredential" cause="revoked" check="payments" env="prod" severity="critical"`
	if s := labelsString(got.Labels); s != wantLabels {
		t.Errorf("labels\n got %s\nwant %s", s, wantLabels)
	}
	ann := got.Annotations
	if ann["summary"] != "[prod] payments: revoked (HTTP 401)" ||
		!strings.HasPrefix(ann["description"], "The API refused the key.") ||
		ann["fix"] != "Issue a new key and update the secret." ||
		ann["runbook_url"] != "https://runbooks.example/credmon/revoked" {
		t.Errorf("annotations %v", ann)
	}
	if got.GeneratorURL != "https://credmon.example/" || !got.StartsAt.Equal(since) {
		t.Errorf("generatorURL %q startsAt %s (want %s)", got.GeneratorURL, got.StartsAt, since)
	}
	firstEnd := got.EndsAt

	// Restated every second, the alerts outlive the endsAt of their first
	// post (and resolve_timeout, 2s here).
	stop := runLoop(t, n)
	await(t, "the first endsAt to pass", func() bool {
		if _, ok := a.active(t, map[string]string{"check": "billing"}); !ok {
			t.Fatal("billing alert ended while its incident is open")
		}
		return time.Now().After(firstEnd.Add(every))
	})

	mustNotify(t, n, message(notify.EventResolved, "payments", checks.CauseOK, checks.CauseRevoked, since))
	await(t, "a resolved notification for payments", func() bool {
		for _, nt := range rec.notifications() {
			if hasAlert(nt, "resolved", "payments") {
				return true
			}
		}
		return false
	})
	if _, ok := a.active(t, map[string]string{"check": "payments"}); ok {
		t.Error("payments still active after its resolution")
	}
	if _, ok := a.active(t, map[string]string{"check": "billing"}); !ok {
		t.Error("billing ended with payments")
	}

	// Without restatement (every credmon gone), the alert ends on its own.
	stop()
	await(t, "billing to end once no longer restated", func() bool {
		_, ok := a.active(t, map[string]string{"check": "billing"})
		return !ok
	})
}

// TestCauseChangeReplacesAlert: the cause is a label, so a new cause ends
// the old alert and fires a new one, and the resolution ends the new one.
func TestCauseChangeReplacesAlert(t *testing.T) {
	rec := newRecorder(t)
	a := startAM(t, rec.srv.URL)
	n := newNotifier(t, memstore.New(), time.Minute, a.url)
	since := time.Now().Add(-time.Minute)
	mustNotify(t, n, message(notify.EventOpened, "payments", checks.CauseTokenExpired, "", since))
	mustNotify(t, n, message(notify.EventCauseChanged, "payments", checks.CauseRevoked, checks.CauseTokenExpired, since))
	if _, ok := a.active(t, map[string]string{"cause": "token_expired"}); ok {
		t.Error("the old cause's alert is still active")
	}
	if _, ok := a.active(t, map[string]string{"cause": "revoked", "check": "payments"}); !ok {
		t.Fatal("the new cause's alert is not active")
	}
	// A reminder restates the new alert, not the old.
	mustNotify(t, n, message(notify.EventReminder, "payments", checks.CauseRevoked, "", since))
	mustNotify(t, n, message(notify.EventResolved, "payments", checks.CauseOK, checks.CauseRevoked, since))
	if al := a.alerts(t); len(al) != 0 {
		t.Errorf("alerts left active: %+v", al)
	}
}

// TestHAPairBothReceive: every URL receives every alert; one that is down
// fails the delivery (retryable, naming it) without keeping the others
// from getting it, and the retry is harmless to those that have it.
func TestHAPairBothReceive(t *testing.T) {
	rec := newRecorder(t)
	a1, a2 := startAM(t, rec.srv.URL), startAM(t, rec.srv.URL)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	n := newNotifier(t, memstore.New(), time.Minute, a1.url, a2.url, downURL)
	m := message(notify.EventOpened, "payments", checks.CauseRevoked, "", time.Now().Add(-time.Minute))
	retry, err := n.Notify(context.Background(), m)
	if err == nil || !retry || !strings.Contains(err.Error(), strings.TrimPrefix(downURL, "http://")) {
		t.Fatalf("retry=%v err=%v; want a retryable error naming the one down", retry, err)
	}
	var pe *PostError
	if !errors.As(err, &pe) || len(pe.Errs) != 1 {
		t.Fatalf("err %T %v", err, err)
	}
	for i, x := range []*am{a1, a2} {
		if _, ok := x.active(t, map[string]string{"check": "payments"}); !ok {
			t.Errorf("alertmanager %d does not have the alert", i+1)
		}
	}
	// The outbox retries at every URL; the two that have it merge it.
	healthy := newNotifier(t, memstore.New(), time.Minute, a1.url, a2.url)
	mustNotify(t, healthy, m)
	for i, x := range []*am{a1, a2} {
		if n := len(x.alerts(t)); n != 1 {
			t.Errorf("alertmanager %d holds %d alerts after the retry, want 1", i+1, n)
		}
	}
}

// hookKV runs hook once, after the first Scan: the moment a restatement
// round has read the store and not yet posted.
type hookKV struct {
	store.KV
	once sync.Once
	hook func()
}

func (k *hookKV) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	out, err := k.KV.Scan(ctx, prefix)
	k.once.Do(k.hook)
	return out, err
}

// TestRoundLosesNoRace: a resolution delivered while a restatement round
// is between reading and posting is not undone by the round's stale post.
func TestRoundLosesNoRace(t *testing.T) {
	rec := newRecorder(t)
	a := startAM(t, rec.srv.URL)
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { roundLosesNoRace(t, a, open(t)) })
	}
}

func roundLosesNoRace(t *testing.T, a *am, st store.Store) {
	kv := &hookKV{KV: st}
	n := newNotifier(t, kv, time.Minute, a.url)
	since := time.Now().Add(-time.Minute)
	kv.once.Do(func() {}) // not during the opening
	mustNotify(t, n, message(notify.EventOpened, "payments", checks.CauseRevoked, "", since))

	kv.once = sync.Once{}
	kv.hook = func() {
		mustNotify(t, n, message(notify.EventResolved, "payments", checks.CauseOK, checks.CauseRevoked, since))
	}
	if err := n.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if al := a.alerts(t); len(al) != 0 {
		t.Errorf("the round's stale post revived the alert: %+v", al)
	}
}

// TestRoundEndsClosedIncidents: an alert whose incident closed without a
// resolution (alerting.send_resolved: false) ends at the next round.
func TestRoundEndsClosedIncidents(t *testing.T) {
	rec := newRecorder(t)
	a := startAM(t, rec.srv.URL)
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { roundEndsClosedIncidents(t, a, open(t)) })
	}
}

func roundEndsClosedIncidents(t *testing.T, a *am, st store.Store) {
	open := map[string]time.Time{}
	var mu sync.Mutex
	n, err := New(Options{URLs: []string{a.url}, KV: st, RepostEvery: time.Minute,
		Open: func(context.Context) (map[string]time.Time, error) {
			mu.Lock()
			defer mu.Unlock()
			out := map[string]time.Time{}
			for k, v := range open {
				out[k] = v
			}
			return out, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	for _, c := range []string{"payments", "billing"} {
		mu.Lock()
		open["prod/"+c+"/auth"] = since
		mu.Unlock()
		mustNotify(t, n, message(notify.EventOpened, c, checks.CauseRevoked, "", since))
	}
	mu.Lock()
	delete(open, "prod/payments/auth")
	mu.Unlock()
	if err := n.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.active(t, map[string]string{"check": "payments"}); ok {
		t.Error("payments still active though its incident closed")
	}
	if _, ok := a.active(t, map[string]string{"check": "billing"}); !ok {
		t.Error("billing ended though its incident is open")
	}
}

// TestRoundClaims: with a shared claim, one of two replicas restates a
// round.
func TestRoundClaims(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		mu.Unlock()
	}))
	defer srv.Close()
	st := memstore.New()
	mk := func(owner string) *Notifier {
		n, err := New(Options{URLs: []string{srv.URL}, KV: st, Claims: st, Owner: owner, RepostEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	r1, r2 := mk("r1"), mk("r2")
	mustNotify(t, r1, message(notify.EventOpened, "payments", checks.CauseRevoked, "", time.Now()))
	mu.Lock()
	posts = 0
	mu.Unlock()
	for _, n := range []*Notifier{r1, r2} {
		if err := n.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if posts != 1 {
		t.Errorf("%d restatements in one round, want 1", posts)
	}
}

// TestNewRefuses: URLs that cannot work, and credentials in a URL, are
// refused without echoing the password.
func TestNewRefuses(t *testing.T) {
	kv := memstore.New()
	for name, o := range map[string]Options{
		"no urls":     {KV: kv},
		"no store":    {URLs: []string{"http://127.0.0.1:9093"}},
		"credentials": {URLs: []string{"http://user:FAKEpassword00000@127.0.0.1:9093"}, KV: kv},
		"not a url":   {URLs: []string{"alertmanager:9093"}, KV: kv},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "FAKEpassword") {
			t.Errorf("%s: error shows the password: %v", name, err)
		}
	}
}

package notify

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// harness drives one Incidents over a memstore with a fake clock; every
// observation is a new run one minute after the previous one.
type harness struct {
	t     *testing.T
	clock *fakeClock
	kv    store.KV
	opts  IncidentOptions
	inc   *Incidents
}

func newHarness(t *testing.T, opts IncidentOptions) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(t0), kv: memstore.New(), opts: opts}
	h.opts.Now = h.clock.Now
	h.inc = NewIncidents(h.kv, h.opts)
	return h
}

// restart replaces the engine with a new one over the same KV, as a
// restarted replica would be.
func (h *harness) restart() { h.inc = NewIncidents(h.kv, h.opts) }

func (h *harness) observe(r checks.Result) []Message {
	h.t.Helper()
	h.clock.Advance(time.Minute)
	r.Started = h.clock.Now()
	msgs, err := h.inc.Observe(context.Background(), r)
	if err != nil {
		h.t.Fatalf("Observe(%s): %v", r.Cause, err)
	}
	return msgs
}

func result(cause checks.Cause) checks.Result {
	return checks.Result{
		Env: "prod", Check: "payments-account", Credential: "payments-key",
		Identity: "api_key Authorization: Bearer sk_live_…a1b2",
		Status:   cause.Status(), Cause: cause, Detail: "detail of " + string(cause),
	}
}

func banded(cause checks.Cause, band string) checks.Result {
	r := result(cause)
	r.Band = parseBand(band)
	return r
}

// parseBand reads a band written as the store writes it, "VALUE/LABEL".
func parseBand(s string) checks.Band {
	var b checks.Band
	_ = b.UnmarshalText([]byte(s))
	return b
}

func events(msgs []Message) string {
	var evs []string
	for _, m := range msgs {
		evs = append(evs, string(m.Event))
	}
	return strings.Join(evs, ",")
}

// step is one observation of a scenario: after advancing the clock by
// wait (plus the minute every run takes), r produces events.
type step struct {
	wait time.Duration
	r    checks.Result
	want string // comma-separated events, "" for none
}

func runSteps(t *testing.T, h *harness, steps []step) []Message {
	t.Helper()
	var all []Message
	for i, s := range steps {
		h.clock.Advance(s.wait)
		msgs := h.observe(s.r)
		if got := events(msgs); got != s.want {
			t.Fatalf("step %d (%s %s): events %q, want %q", i, s.r.Cause, s.r.Band, got, s.want)
		}
		all = append(all, msgs...)
	}
	return all
}

func TestThresholds(t *testing.T) {
	fail, ok := result(checks.CauseUnauthorized), result(checks.CauseOK)
	no := false
	tests := []struct {
		name  string
		opts  IncidentOptions
		steps []step
	}{
		{"default opens on the second failure", IncidentOptions{}, []step{
			{r: fail}, {r: fail, want: "opened"}, {r: fail}, {r: ok, want: "resolved"}, {r: ok},
		}},
		{"threshold 1 opens at once", IncidentOptions{FailureThreshold: 1}, []step{
			{r: fail, want: "opened"}, {r: ok, want: "resolved"},
		}},
		{"threshold 3", IncidentOptions{FailureThreshold: 3}, []step{
			{r: fail}, {r: fail}, {r: fail, want: "opened"},
		}},
		{"an ok in between resets the count", IncidentOptions{}, []step{
			{r: fail}, {r: ok}, {r: fail}, {r: ok}, {r: fail}, {r: fail, want: "opened"},
		}},
		{"success threshold 2", IncidentOptions{SuccessThreshold: 2}, []step{
			{r: fail}, {r: fail, want: "opened"}, {r: ok}, {r: fail}, {r: ok}, {r: ok, want: "resolved"},
		}},
		{"send_resolved false closes silently", IncidentOptions{SendResolved: &no}, []step{
			{r: fail}, {r: fail, want: "opened"}, {r: ok}, {r: fail}, {r: fail, want: "opened"},
		}},
		{"a warning opens at once", IncidentOptions{FailureThreshold: 5}, []step{
			{r: result(checks.CauseTokenExpiring), want: "opened"}, {r: ok, want: "resolved"},
		}},
		{"findings alone open nothing", IncidentOptions{FailureThreshold: 1}, []step{
			{r: result(checks.CauseServerClockSkew)}, {r: result(checks.CauseMissingChallenge)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, newHarness(t, tt.opts), tt.steps)
		})
	}
}

func TestFailuresCountPerCheckAcrossCauses(t *testing.T) {
	h := newHarness(t, IncidentOptions{FailureThreshold: 3})
	msgs := runSteps(t, h, []step{
		{r: result(checks.CauseTokenExpired)},
		{r: result(checks.CauseRevoked)},
		{r: result(checks.CauseRevoked), want: "opened"},
	})
	if msgs[0].Cause != checks.CauseRevoked {
		t.Errorf("opened with cause %s, want the latest, revoked", msgs[0].Cause)
	}
	open, err := h.inc.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Failures != 3 || open[0].Key != "prod/payments-account/auth" {
		t.Fatalf("Open() = %+v, want one auth incident with 3 failures", open)
	}
}

func TestReminder(t *testing.T) {
	fail := result(checks.CauseInvalidToken)
	h := newHarness(t, IncidentOptions{RemindEvery: 4 * time.Hour})
	msgs := runSteps(t, h, []step{
		{r: fail},
		{r: fail, want: "opened"},
		{wait: 4*time.Hour - 2*time.Minute, r: fail}, // 3h59m after opening
		{r: fail, want: "reminder"},                  // 4h after
		{wait: 2 * time.Hour, r: fail},
		{wait: 2 * time.Hour, r: fail, want: "reminder"},
	})
	if !msgs[1].Since.Equal(msgs[0].Since) || !msgs[1].Since.Equal(msgs[0].At) {
		t.Errorf("reminder Since %v, want the opening time %v", msgs[1].Since, msgs[0].At)
	}
	if !msgs[1].At.Equal(msgs[0].At.Add(4 * time.Hour)) {
		t.Errorf("reminder At %v, want 4h after opening", msgs[1].At)
	}

	never := newHarness(t, IncidentOptions{})
	runSteps(t, never, []step{
		{r: fail}, {r: fail, want: "opened"}, {wait: 100 * time.Hour, r: fail},
	})
}

func TestCauseChange(t *testing.T) {
	h := newHarness(t, IncidentOptions{RemindEvery: time.Hour})
	msgs := runSteps(t, h, []step{
		{r: result(checks.CauseTokenExpired)},
		{r: result(checks.CauseTokenExpired), want: "opened"},
		{wait: 50 * time.Minute, r: result(checks.CauseRevoked), want: "cause_changed"},
		// The change counts as a notification: the reminder clock restarts.
		{wait: 30 * time.Minute, r: result(checks.CauseRevoked)},
		{wait: 30 * time.Minute, r: result(checks.CauseRevoked), want: "reminder"},
		{r: result(checks.CauseOK), want: "resolved"},
	})
	cc := msgs[1]
	if cc.Cause != checks.CauseRevoked || cc.PrevCause != checks.CauseTokenExpired || cc.IncidentKey != msgs[0].IncidentKey {
		t.Errorf("cause_changed = %s (prev %s) on %s, want revoked (prev token_expired) on %s",
			cc.Cause, cc.PrevCause, cc.IncidentKey, msgs[0].IncidentKey)
	}
	if res := msgs[3]; res.PrevCause != checks.CauseRevoked || res.Cause != checks.CauseOK {
		t.Errorf("resolved = %s (prev %s), want ok (prev revoked)", res.Cause, res.PrevCause)
	}
}

func TestFamilyChangeResolvesAndOpens(t *testing.T) {
	h := newHarness(t, IncidentOptions{})
	msgs := runSteps(t, h, []step{
		{r: result(checks.CauseUnauthorized)},
		{r: result(checks.CauseUnauthorized), want: "opened"},
		{r: result(checks.CauseUnreachable), want: "resolved,opened"},
	})
	if msgs[1].IncidentKey != "prod/payments-account/auth" || msgs[1].PrevCause != checks.CauseUnauthorized {
		t.Errorf("resolved %s (prev %s), want the auth incident", msgs[1].IncidentKey, msgs[1].PrevCause)
	}
	if msgs[2].IncidentKey != "prod/payments-account/availability" || msgs[2].Cause != checks.CauseUnreachable {
		t.Errorf("opened %s (%s), want the availability incident", msgs[2].IncidentKey, msgs[2].Cause)
	}
	open, err := h.inc.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Family != "availability" {
		t.Fatalf("Open() = %+v, want only the availability incident", open)
	}

	// A warning incident stays open until the failure that replaces it
	// reaches the failure threshold.
	w := newHarness(t, IncidentOptions{FailureThreshold: 3})
	runSteps(t, w, []step{
		{r: result(checks.CauseTokenExpiring), want: "opened"},
		{r: result(checks.CauseTokenExpired)},
		{r: result(checks.CauseTokenExpired), want: "resolved,opened"},
	})
}

func TestBandsAlertOncePerBand(t *testing.T) {
	warn := func(band string) checks.Result { return banded(checks.CauseTokenExpiring, band) }
	h := newHarness(t, IncidentOptions{RemindEvery: time.Hour})
	runSteps(t, h, []step{
		{r: warn("fp:aaaa1111/14d"), want: "opened"},
		// Banded warnings do not remind: the next band is the reminder.
		{wait: 30 * time.Hour, r: warn("fp:aaaa1111/14d")},
		{r: warn("fp:aaaa1111/7d"), want: "band"},
		{r: warn("fp:aaaa1111/7d")},
	})

	h.restart()
	runSteps(t, h, []step{
		{r: warn("fp:aaaa1111/7d")},
		{r: warn("fp:aaaa1111/14d")}, // back to an alerted band: still once
		{r: warn("fp:aaaa1111/1d"), want: "band"},
		// A new credential value starts its bands afresh.
		{r: warn("fp:bbbb2222/1d"), want: "band"},
		{r: warn("fp:bbbb2222/1d")},
		{r: warn("fp:bbbb2222/7d"), want: "band"},
	})

	h.restart()
	msgs := runSteps(t, h, []step{
		{r: warn("fp:bbbb2222/7d")},
		{r: result(checks.CauseOK), want: "resolved"},
		{r: warn("fp:bbbb2222/7d"), want: "opened"},
	})
	if msgs[1].Band != (checks.Band{Value: "fp:bbbb2222", Label: "7d"}) {
		t.Errorf("opened band %q", msgs[1].Band)
	}
}

func TestMessageFields(t *testing.T) {
	exp := t0.Add(-time.Hour)
	r := result(checks.CauseInvalidToken)
	r.HTTPStatus = 401
	r.Hint = "fetch a new token"
	r.Challenge = &challenge.Challenge{Scheme: "Bearer", Realm: "api", Error: "invalid_token"}
	r.Token = &checks.TokenInfo{Issuer: "https://auth.example.com/", ExpiresAt: &exp}
	r.Findings = []checks.Finding{{Cause: checks.CauseServerClockSkew, Detail: "server clock 3s ahead"}}
	h := newHarness(t, IncidentOptions{FailureThreshold: 1, Owner: "replica-a"})
	msgs := h.observe(r)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	now := h.clock.Now()
	wantID := "prod/payments-account/auth/" + strconv.FormatInt(now.UnixMilli(), 10) + "-1-opened"
	checksOut := []struct {
		field string
		ok    bool
	}{
		{"ID " + m.ID, m.ID == wantID},
		{"IncidentKey", m.IncidentKey == "prod/payments-account/auth"},
		{"Event", m.Event == EventOpened},
		{"At", m.At.Equal(now)},
		{"Since", m.Since.Equal(now)},
		{"Env", m.Env == "prod"},
		{"Check", m.Check == "payments-account"},
		{"Credential", m.Credential == "payments-key"},
		{"Identity", m.Identity == r.Identity},
		{"Status", m.Status == checks.StatusFail},
		{"Cause", m.Cause == checks.CauseInvalidToken},
		{"HTTPStatus", m.HTTPStatus == 401},
		{"Detail", m.Detail == r.Detail},
		{"Hint", m.Hint == r.Hint},
		{"Findings", len(m.Findings) == 1 && m.Findings[0].Cause == checks.CauseServerClockSkew},
		{"Challenge", m.Challenge != nil && m.Challenge.Error == "invalid_token"},
		{"Token", m.Token != nil && m.Token.Issuer == "https://auth.example.com/"},
	}
	for _, c := range checksOut {
		if !c.ok {
			t.Errorf("message field %s not filled from the result: %+v", c.field, m)
		}
	}
	open, err := h.inc.Open(context.Background())
	if err != nil || len(open) != 1 || open[0].NotifiedBy != "replica-a" || !open[0].LastNotified.Equal(now) {
		t.Errorf("Open() = %+v, %v; want notified by replica-a at %v", open, err, now)
	}
}

func TestDuplicateAndStaleResults(t *testing.T) {
	h := newHarness(t, IncidentOptions{})
	ctx := context.Background()
	r := result(checks.CauseRevoked)
	h.clock.Advance(time.Hour)
	r.Started = h.clock.Now()
	for i := range 3 {
		// The same run seen three times counts once.
		msgs, err := h.inc.Observe(ctx, r)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("observation %d: %v, %v; want nothing", i, msgs, err)
		}
	}
	late := r
	late.Started = t0 // an earlier tick finishing late
	if msgs, err := h.inc.Observe(ctx, late); err != nil || len(msgs) != 0 {
		t.Fatalf("late result: %v, %v; want nothing", msgs, err)
	}
	next := r
	next.Started = r.Started.Add(time.Minute)
	if msgs, err := h.inc.Observe(ctx, next); err != nil || events(msgs) != "opened" {
		t.Fatalf("second distinct run: %q, %v; want opened", events(msgs), err)
	}
}

// A replica whose clock ran an hour ahead applied the last result: its
// Started is an hour in this replica's future. Trusted, it would make this
// replica drop every result of the check for that hour; it is not, while
// a late result within replicas' clock difference still is dropped.
func TestLastResultFromAClockAhead(t *testing.T) {
	h := newHarness(t, IncidentOptions{})
	ctx := context.Background()
	ahead := result(checks.CauseRevoked)
	ahead.Started = h.clock.Now().Add(time.Hour)
	if _, err := h.inc.Observe(ctx, ahead); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	r := result(checks.CauseRevoked)
	r.Started = h.clock.Now()
	if msgs, err := h.inc.Observe(ctx, r); err != nil || events(msgs) != "opened" {
		t.Fatalf("a result after one from a clock an hour ahead: %q, %v; want opened (its second failure)", events(msgs), err)
	}
	late := r
	late.Started = r.Started.Add(-time.Second)
	if msgs, err := h.inc.Observe(ctx, late); err != nil || len(msgs) != 0 {
		t.Fatalf("a late result: %q, %v; want nothing", events(msgs), err)
	}
}

// A credential's concerns are separate subjects: both report with the same
// Started, as rotation.Evaluation does, and an ok expiry must neither
// resolve the rotation incident nor be taken for a duplicate of it.
func TestCredentialConcernsAreSeparateSubjects(t *testing.T) {
	h := newHarness(t, IncidentOptions{})
	ctx := context.Background()
	cred := func(concern string, cause checks.Cause, band string) checks.Result {
		return checks.Result{Kind: checks.SubjectCredential, Env: "prod", Credential: "payments-key", Concern: concern,
			Status: cause.Status(), Cause: cause, Band: parseBand(band), Started: h.clock.Now()}
	}
	for i := range 3 {
		h.clock.Advance(time.Hour)
		// Both concerns report with the same Started, as rotation.Evaluation does.
		rot, err := h.inc.Observe(ctx, cred(checks.ConcernRotation, checks.CauseRotationDue, "fp:aaaa1111/14d"))
		if err != nil {
			t.Fatal(err)
		}
		exp, err := h.inc.Observe(ctx, cred(checks.ConcernExpiry, checks.CauseOK, ""))
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if i == 0 {
			want = "opened"
		}
		if events(rot) != want || len(exp) != 0 {
			t.Fatalf("round %d: rotation %q, expiry %q; want %q and nothing", i, events(rot), events(exp), want)
		}
	}
	open, err := h.inc.Open(ctx)
	want := checks.CredentialSubject("prod", "payments-key", checks.ConcernRotation).IncidentKey(FamilyRotation)
	if err != nil || len(open) != 1 || open[0].Key != want || want != "prod/credential:payments-key/rotation/rotation" {
		t.Fatalf("Open() = %+v, %v; want the rotation incident still open", open, err)
	}
}

// A finding-only warn (ok next to server_clock_skew or missing_challenge)
// is warn in every output, yet it is not a failure: it neither opens an
// incident nor keeps one open.
func TestFindingOnlyWarnIsASuccessForIncidents(t *testing.T) {
	skewed := result(checks.CauseOK)
	skewed.AddFinding(checks.Finding{Cause: checks.CauseServerClockSkew, Detail: "server clock 5m ahead"})
	if skewed.Status != checks.StatusWarn {
		t.Fatalf("ok + server_clock_skew: status %s, want warn", skewed.Status)
	}
	fail := result(checks.CauseUnauthorized)
	fail.AddFinding(checks.Finding{Cause: checks.CauseMissingChallenge, Detail: "no WWW-Authenticate"})
	h := newHarness(t, IncidentOptions{})
	msgs := runSteps(t, h, []step{
		{r: skewed}, {r: skewed}, {r: skewed},
		{r: fail}, {r: fail, want: "opened"},
		{r: skewed, want: "resolved"},
	})
	if m := msgs[0]; m.Status != checks.StatusFail || m.Cause != checks.CauseUnauthorized || len(m.Findings) != 1 {
		t.Errorf("opened: %s/%s findings %+v", m.Status, m.Cause, m.Findings)
	}
	// The resolving message carries the result's own verdict and findings.
	if m := msgs[1]; m.Status != checks.StatusWarn || m.PrevCause != checks.CauseUnauthorized || len(m.Findings) != 1 {
		t.Errorf("resolved: %s prev %s findings %+v", m.Status, m.PrevCause, m.Findings)
	}
	if open, err := h.inc.Open(context.Background()); err != nil || len(open) != 0 {
		t.Errorf("open incidents after the warn-only run: %+v (%v)", open, err)
	}
}

// TestForgetResolvesARemovedSubjectsIncident: a check removed from the
// configuration closes its open incident once, with a message that says
// why, and leaves nothing open or counted behind; a subject with nothing
// open goes silently.
func TestForgetResolvesARemovedSubjectsIncident(t *testing.T) {
	h := newHarness(t, IncidentOptions{FailureThreshold: 2})
	h.observe(result(checks.CauseUnauthorized))
	opened := h.observe(result(checks.CauseUnauthorized))
	if events(opened) != "opened" {
		t.Fatalf("events = %q, want opened", events(opened))
	}
	ctx := context.Background()
	subject := result(checks.CauseOK).Subject()
	msgs, err := h.inc.Forget(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("Forget gave %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Event != EventResolved || m.IncidentKey != opened[0].IncidentKey || m.PrevCause != checks.CauseUnauthorized || m.ID == opened[0].ID {
		t.Errorf("message = %+v; want resolved on %s after unauthorized, with an ID of its own", m, opened[0].IncidentKey)
	}
	if !strings.Contains(m.Detail, "removed from the configuration") {
		t.Errorf("detail %q does not say the check was removed", m.Detail)
	}
	if open, err := h.inc.Open(ctx); err != nil || len(open) != 0 {
		t.Errorf("open after Forget = %v, %v; want none", open, err)
	}
	if _, err := h.kv.Get(ctx, kvPrefix+subject.Key()); err != store.ErrNotFound {
		t.Errorf("incident record still stored: %v", err)
	}
	if again, err := h.inc.Forget(ctx, subject); err != nil || len(again) != 0 {
		t.Errorf("second Forget = %v, %v; want nothing", again, err)
	}
	// One failure, nothing open: forgotten without a message.
	h.observe(result(checks.CauseUnauthorized))
	if msgs, err := h.inc.Forget(ctx, subject); err != nil || len(msgs) != 0 {
		t.Errorf("Forget of a subject with nothing open = %v, %v; want nothing", msgs, err)
	}
}

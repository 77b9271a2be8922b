package notify

import (
	"context"
	"slices"
	"testing"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store/memstore"
)

// config cannot import checks, so it keeps its own list of the causes a
// route may match; this keeps the two equal.
func TestConfigKnowsEveryCause(t *testing.T) {
	var want []string
	for _, c := range checks.AllCauses() {
		want = append(want, string(c))
	}
	if got := config.KnownCauses(); !slices.Equal(got, want) {
		t.Errorf("config.KnownCauses() = %v\nchecks.AllCauses() = %v", got, want)
	}
}

func TestSeverity(t *testing.T) {
	for c, want := range map[checks.Cause]string{
		checks.CauseRevoked:          SeverityCritical,
		checks.CauseRotationOverdue:  SeverityCritical,
		checks.CauseTokenExpiring:    SeverityWarning,
		checks.CauseRotationDue:      SeverityWarning,
		checks.CauseUnreachable:      SeverityInfo,
		checks.CauseUnexpectedStatus: SeverityInfo,
	} {
		if got := Severity(c); got != want {
			t.Errorf("Severity(%s) = %s, want %s", c, got, want)
		}
	}
}

func routed(ev Event, env string, cause, prev checks.Cause) Message {
	return Message{ID: "x", Event: ev, Env: env, Cause: cause, PrevCause: prev, Status: cause.Status()}
}

func TestRouterTargets(t *testing.T) {
	r := NewRouter([]Route{
		{Match: Matcher{Env: "prod", Status: checks.StatusFail}, To: []string{"pagerduty", "slack"}},
		{Match: Matcher{Env: "prod", Cause: checks.CauseRevoked}, To: []string{"webhook"}}, // shadowed by the first
		{Match: Matcher{Severity: SeverityInfo}, To: []string{"webhook"}, Continue: true},
		{Match: Matcher{Env: "staging"}, To: []string{"slack"}},
	})
	cases := []struct {
		name    string
		m       Message
		want    []string
		matched bool
	}{
		{"prod fail", routed(EventOpened, "prod", checks.CauseRevoked, ""), []string{"pagerduty", "slack"}, true},
		{"prod warn: no route", routed(EventOpened, "prod", checks.CauseRotationDue, ""), nil, false},
		{"info continues", routed(EventOpened, "staging", checks.CauseUnreachable, ""), []string{"webhook", "slack"}, true},
		{"staging fail", routed(EventReminder, "staging", checks.CauseRevoked, ""), []string{"slack"}, true},
		// A resolution follows the incident's causes, not its own "ok":
		// the rotation family has rotation_overdue (fail), so pagerduty
		// hears the end of a prod rotation incident, whichever cause it had last.
		{"resolved rotation", routed(EventResolved, "prod", checks.CauseOK, checks.CauseRotationDue), []string{"pagerduty", "slack"}, true},
		{"resolved auth", routed(EventResolved, "prod", checks.CauseOK, checks.CauseRevoked), []string{"pagerduty", "slack"}, true},
		// The expiry family is warnings only: nothing routes it in prod.
		{"resolved expiry", routed(EventResolved, "prod", checks.CauseOK, checks.CauseTokenExpiring), nil, false},
		// A cause change reaches the notifiers of the old cause and of the new.
		{"fail to warn", routed(EventCauseChanged, "prod", checks.CauseRotationDue, checks.CauseRotationOverdue), []string{"pagerduty", "slack"}, true},
	}
	for _, c := range cases {
		got, matched := r.Targets(c.m)
		if !slices.Equal(got, c.want) || matched != c.matched {
			t.Errorf("%s: Targets = %v, %v; want %v, %v", c.name, got, matched, c.want, c.matched)
		}
	}
	var none *Router
	if got, matched := none.Targets(routed(EventOpened, "prod", checks.CauseRevoked, "")); got != nil || matched {
		t.Errorf("nil router: %v, %v", got, matched)
	}
}

// TestEnqueueRoutes: the outbox gets one entry per chosen notifier and
// the console's, none for the others; an unmatched message goes to all.
func TestEnqueueRoutes(t *testing.T) {
	out := memstore.New()
	names := []string{"console", "slack", "pagerduty", "webhook"}
	var ns []Notifier
	for _, n := range names {
		ns = append(ns, newRecorder(n))
	}
	d := NewDispatcher(out, ns, DispatcherOptions{
		Logger:   quiet(),
		Router:   NewRouter([]Route{{Match: Matcher{Env: "prod", Status: checks.StatusFail}, To: []string{"pagerduty"}}}),
		Unrouted: []string{"console"},
	})
	ctx := context.Background()
	prodFail := routed(EventOpened, "prod", checks.CauseRevoked, "")
	prodFail.ID, prodFail.IncidentKey = "prod/a/auth/1-1-opened", "prod/a/auth"
	stagingFail := routed(EventOpened, "staging", checks.CauseRevoked, "")
	stagingFail.ID, stagingFail.IncidentKey = "staging/a/auth/1-1-opened", "staging/a/auth"
	enqueue(t, d, prodFail, stagingFail)
	entries, err := out.Lease(ctx, "t", 100, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.ID)
	}
	slices.Sort(got)
	want := []string{
		"prod/a/auth/1-1-opened/console", "prod/a/auth/1-1-opened/pagerduty",
		"staging/a/auth/1-1-opened/console", "staging/a/auth/1-1-opened/pagerduty",
		"staging/a/auth/1-1-opened/slack", "staging/a/auth/1-1-opened/webhook",
	}
	if !slices.Equal(got, want) {
		t.Errorf("outbox entries\n got %v\nwant %v", got, want)
	}
}

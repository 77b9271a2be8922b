// Package web owns the daemon's HTTP surface: the status page, the JSON
// status API, health and readiness probes and the Prometheus metrics.
package web

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
)

// Source produces the current state of the daemon for one request. The
// daemon implements it; handlers never cache its answer.
type Source interface {
	Snapshot(ctx context.Context) (*Snapshot, error)
}

// Readiness is a Source that can list why it is not ready without building
// a whole Snapshot; /readyz then asks it alone.
type Readiness interface {
	NotReady(ctx context.Context) []string
}

// Snapshot is everything the status page, /api/v1/status and `credmon
// status` show. It never holds a secret: results carry only the redacted
// credential identity.
type Snapshot struct {
	Generated time.Time `json:"generated"`
	Instance  string    `json:"instance"` // this replica's id
	Version   string    `json:"version,omitempty"`
	Ready     bool      `json:"ready"`
	// NotReady gives the reasons Ready is false, one sentence each, such as
	// "redis unreachable" or "config reload failed: ...".
	NotReady []string `json:"not_ready,omitempty"`
	// Problems are what the snapshot could not read but that leave the
	// replica ready, one sentence each, such as a check's damaged stored
	// history (store.DamagedError).
	Problems    []string       `json:"problems,omitempty"`
	Checks      []CheckStatus  `json:"checks"`              // sorted by env, then name
	Deadlines   []Deadline     `json:"deadlines,omitempty"` // soonest first
	Instances   []Instance     `json:"instances,omitempty"` // live replicas
	Incidents   []Incident     `json:"incidents,omitempty"` // open incidents
	ClockOffset *time.Duration `json:"clock_offset,omitempty"`
	// Silences are the runtime silences and maintenance windows active
	// now: the notifications they match are held until they end.
	Silences []notify.Silence `json:"silences,omitempty"`
}

// CheckStatus is one configured check and what is known of its runs.
type CheckStatus struct {
	Env        string `json:"env"`
	Name       string `json:"name"`
	Credential string `json:"credential"`
	Identity   string `json:"identity,omitempty"` // redacted, e.g. "api_key Authorization: Bearer sk_live_…a1b2"
	Schedule   string `json:"schedule"`
	// Last is nil until the check has run once.
	Last *checks.Result `json:"last,omitempty"`
	// Recent holds the statuses of the latest kept runs (store.Keep),
	// newest first, as the store has them: the same on every replica.
	Recent    []checks.Status `json:"recent,omitempty"`
	OKRatio   float64         `json:"ok_ratio"` // share of Recent that is ok or warn
	NextRun   time.Time       `json:"next_run,omitzero"`
	LastRunBy string          `json:"last_run_by,omitempty"` // instance id
}

// Deadline kinds.
const (
	DeadlineRotation = "rotation" // a key's rotation deadline (rotated_at + max_age)
	DeadlineExpiry   = "expiry"   // a credential's own expiry
	DeadlineToken    = "token"    // the current access token's exp
)

// Deadline is a moment by which a credential must be rotated or renewed.
type Deadline struct {
	Env        string    `json:"env"`
	Credential string    `json:"credential"`
	Kind       string    `json:"kind"` // DeadlineRotation, DeadlineExpiry or DeadlineToken
	At         time.Time `json:"at"`
}

// Instance is one live replica of the daemon, as its heartbeat says.
type Instance = store.Instance

// Incident is an open alert as the notifier tracks it.
type Incident struct {
	Key          string        `json:"key"`
	Env          string        `json:"env"`
	Subject      string        `json:"subject"` // check or credential name
	Cause        checks.Cause  `json:"cause"`
	Status       checks.Status `json:"status"`
	Since        time.Time     `json:"since"`
	LastNotified time.Time     `json:"last_notified,omitzero"`
}

// Configured is one check of the configuration, as a snapshot lists it.
type Configured struct {
	Env, Name, Credential, Schedule string
}

// View is what a snapshot is built from: the daemon fills all of it,
// `credmon status` without a daemon what a store and a configuration
// know. Everything else comes from the store, so every replica sharing
// it shows the same results, history, incidents and replicas.
type View struct {
	Instance, Version string
	Checks            []Configured
	// Knows filters stored results to what the configuration has (a
	// removed check's results wait for deletion); nil keeps them all.
	Knows func(checks.Subject) bool
	// NextRun is when a check (by key) runs next; nil without a scheduler.
	NextRun func(key string) time.Time
	// CredentialSchedule is shown on credential rows.
	CredentialSchedule string
	// Deadlines this replica evaluated (rotation, expiry); token expiry
	// comes from the stored results.
	Deadlines   []Deadline
	NotReady    []string
	ClockOffset *time.Duration
	// Self is this replica, listed first among the instances; nil when no
	// daemon is asked.
	Self *Instance
	// Windows are the configured maintenance windows; runtime silences
	// come from the store.
	Windows []notify.Window
}

// SnapshotStore is what a snapshot reads.
type SnapshotStore interface {
	store.Results
	store.KV
	store.Instances
}

// BuildSnapshot is the one builder of the status snapshot: the page,
// /api/v1/status and `credmon status` all show what it returns. A store
// that does not answer makes a snapshot that says so, not an error.
func BuildSnapshot(ctx context.Context, st SnapshotStore, v View) *Snapshot {
	s := &Snapshot{Generated: time.Now(), Instance: v.Instance, Version: v.Version, NotReady: slices.Clone(v.NotReady), ClockOffset: v.ClockOffset}
	// damage notes err as a problem if it is a read's damage (the read
	// returned what it could beside it), once per kind of value: the
	// results' and the statuses' reads meet the same damaged histories.
	said := map[store.Stored]bool{}
	damage := func(err error) bool {
		var d *store.DamagedError
		if !errors.As(err, &d) {
			return false
		}
		if !said[d.What] {
			said[d.What] = true
			s.Problems = append(s.Problems, d.Error())
		}
		return true
	}
	stored, err := st.LatestResults(ctx)
	if err != nil && !damage(err) {
		s.NotReady = append(s.NotReady, "store unavailable: "+err.Error())
	}
	latest := stored[:0:0]
	byKey := make(map[string]checks.Result, len(stored))
	for _, r := range stored {
		if v.Knows == nil || v.Knows(r.Subject()) {
			latest = append(latest, r)
			byKey[r.Key()] = r
		}
	}
	// No history is no reason to fail the page.
	recent, err := st.RecentStatuses(ctx)
	damage(err)

	for _, c := range v.Checks {
		key := checks.CheckSubject(c.Env, c.Name).Key()
		cs := CheckStatus{Env: c.Env, Name: c.Name, Credential: c.Credential, Schedule: c.Schedule}
		if v.NextRun != nil {
			cs.NextRun = v.NextRun(key)
		}
		if r, ok := byKey[key]; ok {
			cs.Last, cs.Identity, cs.LastRunBy = &r, r.Identity, r.RunBy
		}
		cs.Recent = recent[key]
		cs.OKRatio = okRatio(cs.Recent)
		s.Checks = append(s.Checks, cs)
	}
	// Credential concerns have no configured check: rows of their own.
	for _, r := range latest {
		if r.Kind == checks.SubjectCredential {
			cs := CheckStatus{Env: r.Env, Name: r.Subject().Path(), Credential: r.Credential, Identity: r.Identity, Schedule: v.CredentialSchedule, Last: &r, LastRunBy: r.RunBy, Recent: recent[r.Key()]}
			cs.OKRatio = okRatio(cs.Recent)
			s.Checks = append(s.Checks, cs)
		}
	}
	sort.Slice(s.Checks, func(i, j int) bool {
		a, b := s.Checks[i], s.Checks[j]
		if a.Env != b.Env {
			return a.Env < b.Env
		}
		return a.Name < b.Name
	})

	s.Deadlines = append(slices.Clone(v.Deadlines), tokenDeadlines(latest)...)
	sort.SliceStable(s.Deadlines, func(i, j int) bool { return s.Deadlines[i].At.Before(s.Deadlines[j].At) })
	open, err := notify.NewIncidents(st, notify.IncidentOptions{}).Open(ctx)
	damage(err)
	for _, in := range open {
		s.Incidents = append(s.Incidents, Incident{Key: in.Key, Env: in.Env, Subject: in.Subject, Cause: in.Cause, Status: in.Status, Since: in.Since, LastNotified: in.LastNotified})
	}
	// A store that does not answer is reported above already.
	s.Silences, err = notify.NewSilences(st, v.Windows, nil).Active(ctx, s.Generated)
	damage(err)
	live, err := st.Instances(ctx)
	damage(err)
	if v.Self != nil {
		self := *v.Self
		self.LastSeen = s.Generated
		s.Instances = append(s.Instances, self)
	}
	for _, in := range live {
		if v.Self == nil || in.ID != v.Self.ID {
			s.Instances = append(s.Instances, in)
		}
	}
	s.Ready = len(s.NotReady) == 0
	return s
}

// okRatio is the share of recent runs that were ok or warn.
func okRatio(recent []checks.Status) float64 {
	if len(recent) == 0 {
		return 0
	}
	n := 0
	for _, st := range recent {
		if st == checks.StatusOK || st == checks.StatusWarn {
			n++
		}
	}
	return float64(n) / float64(len(recent))
}

// tokenDeadlines lists each credential's token expiry as last seen, one
// per credential.
func tokenDeadlines(latest []checks.Result) []Deadline {
	seen := map[string]bool{}
	var out []Deadline
	for _, r := range latest {
		if r.Token == nil || r.Token.ExpiresAt == nil || r.Credential == "" || seen[r.Env+"/"+r.Credential] {
			continue
		}
		seen[r.Env+"/"+r.Credential] = true
		out = append(out, Deadline{Env: r.Env, Credential: r.Credential, Kind: DeadlineToken, At: *r.Token.ExpiresAt})
	}
	return out
}

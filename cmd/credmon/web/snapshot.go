// Package web owns the daemon's HTTP surface: the status page, the JSON
// status API, health and readiness probes and the Prometheus metrics.
package web

import (
	"context"
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
	NotReady    []string       `json:"not_ready,omitempty"`
	Checks      []CheckStatus  `json:"checks"`              // sorted by env, then name
	Deadlines   []Deadline     `json:"deadlines,omitempty"` // soonest first
	Instances   []Instance     `json:"instances,omitempty"` // live replicas
	Incidents   []Incident     `json:"incidents,omitempty"` // open incidents
	ClockOffset *time.Duration `json:"clock_offset,omitempty"`
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
	// Recent holds the statuses of up to 20 latest runs, newest first.
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

// IncidentsOf converts the incident engine's open incidents for display.
func IncidentsOf(open []notify.IncidentState) []Incident {
	out := make([]Incident, 0, len(open))
	for _, in := range open {
		out = append(out, Incident{Key: in.Key, Env: in.Env, Subject: in.Subject, Cause: in.Cause, Status: in.Status, Since: in.Since, LastNotified: in.LastNotified})
	}
	return out
}

// CredentialRows shows credential-level results (rotation, expiry), which
// have no configured check, as rows of their own.
func CredentialRows(latest []checks.Result, schedule string) []CheckStatus {
	var out []CheckStatus
	for _, r := range latest {
		if r.Kind == checks.SubjectCredential {
			r := r
			out = append(out, CheckStatus{Env: r.Env, Name: r.Subject().Path(), Credential: r.Credential, Identity: r.Identity, Schedule: schedule, Last: &r, LastRunBy: r.RunBy})
		}
	}
	return out
}

// TokenDeadlines lists each credential's token expiry as last seen, soonest
// first, one per credential.
func TokenDeadlines(latest []checks.Result) []Deadline {
	seen := map[string]bool{}
	var out []Deadline
	for _, r := range latest {
		if r.Token == nil || r.Token.ExpiresAt == nil || r.Credential == "" || seen[r.Env+"/"+r.Credential] {
			continue
		}
		seen[r.Env+"/"+r.Credential] = true
		out = append(out, Deadline{Env: r.Env, Credential: r.Credential, Kind: DeadlineToken, At: *r.Token.ExpiresAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

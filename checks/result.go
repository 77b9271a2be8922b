package checks

import (
	"slices"
	"time"

	"github.com/credmon/credmon/checks/challenge"
)

// Result is what one check run produces. It never holds a secret: the
// credential appears only as its redacted Identity.
type Result struct {
	// Kind, Env, Check or Credential, and Concern name the result's
	// Subject: a check (Kind empty, Check set), a credential's concern
	// (Kind credential, Credential and Concern set, Check empty) or the
	// clock.
	Kind       SubjectKind `json:"kind,omitempty"`
	Env        string      `json:"env"`
	Check      string      `json:"check"`
	Credential string      `json:"credential"`
	Concern    string      `json:"concern,omitempty"`
	Identity   string      `json:"identity,omitempty"` // e.g. "api_key Authorization: Bearer sk_live_…a1b2"
	Tick       time.Time   `json:"tick"`               // the scheduled tick (or the start time for ad-hoc runs)
	Started    time.Time   `json:"started"`
	RunBy      string      `json:"run_by,omitempty"` // the replica that ran it

	// Status is the verdict: what Verdict says for Cause and Findings. Set
	// it through SetCause and AddFinding, and read it rather than
	// recomputing from the cause, so every output agrees.
	Status     Status        `json:"status"`
	Cause      Cause         `json:"cause"`
	HTTPStatus int           `json:"http_status,omitempty"`
	Latency    time.Duration `json:"latency"`
	Detail     string        `json:"detail"`
	Hint       string        `json:"hint,omitempty"`

	// Findings are secondary causes reported alongside the main one, such as
	// missing_challenge next to unauthorized, or server_clock_skew next to ok.
	Findings []Finding `json:"findings,omitempty"`

	// Band is the warning band a warn result falls in, for the
	// credential's current value: an incident alerts once per band and
	// again when the credential changes. Stored as "VALUE/LABEL".
	Band Band `json:"band,omitzero"`

	Challenge        *challenge.Challenge `json:"challenge,omitempty"`
	Token            *TokenInfo           `json:"token,omitempty"`
	ServerTimeOffset time.Duration        `json:"server_time_offset,omitempty"`
}

// Finding is a secondary cause with its own explanation.
type Finding struct {
	Cause Cause `json:"cause"`
	// Status, when set, is the status the finding implies instead of its
	// cause's: an observation credmon made without the server confirming
	// it (a key without a scheme that the API accepted, a key shared with
	// another environment) is worth a look, not a failure.
	Status Status `json:"status,omitempty"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}

// status is the status the finding implies.
// Implied is the status a finding stands for: its own, or its cause's.
// Verdict ranks by it; a page showing a finding's weight must too.
func (f Finding) Implied() Status {
	if f.Status != "" {
		return f.Status
	}
	return f.Cause.Status()
}

// TokenInfo holds the claims of the token used that matter for diagnosis —
// never the token itself.
type TokenInfo struct {
	Issuer    string     `json:"iss,omitempty"`
	Audience  []string   `json:"aud,omitempty"`
	Subject   string     `json:"sub,omitempty"`
	Scope     string     `json:"scope,omitempty"`
	ExpiresAt *time.Time `json:"exp,omitempty"`
	IssuedAt  *time.Time `json:"iat,omitempty"`
	NotBefore *time.Time `json:"nbf,omitempty"`
}

// Subject is what the result is about.
func (r Result) Subject() Subject {
	switch r.Kind {
	case SubjectCredential:
		return CredentialSubject(r.Env, r.Credential, r.Concern)
	case SubjectClock:
		return Subject{Kind: SubjectClock, Env: r.Env, Name: ClockName}
	}
	return CheckSubject(r.Env, r.Check)
}

// Key identifies the result's subject: "ENV/CHECK" for a check.
func (r Result) Key() string { return r.Subject().Key() }

// Verdict is the status a result reports: the worst of its main cause and
// its findings. It is the one place that decides a result's status; SetCause
// and AddFinding call it, so Result.Status always holds its answer.
//
// Why the worst and not the main cause alone: a finding is something the
// exchange really showed (the server's clock 5 minutes off, a 401 without a
// challenge). A 200 with a skewed Date is not "ok" to the person reading
// `credmon check`, the status page or a metric — it is worth a look, which
// is what warn means. The cause stays the main cause, so nothing keyed on
// causes (incident families, metric cause labels) moves. A finding never
// turns a result into a failure either: a probe's findings are warn-level
// causes, and rotation makes the worse of its two results the main one, so
// exit codes (warn exits 0) and incidents, which open on the main cause's
// family, are unchanged.
func Verdict(c Cause, findings []Finding) Status {
	s := c.Status()
	for _, f := range findings {
		if fs := f.Implied(); fs.Rank() > s.Rank() {
			s = fs
		}
	}
	return s
}

// SetCause makes c the result's main cause and settles its status.
func (r *Result) SetCause(c Cause, detail, hint string) {
	r.Cause, r.Detail, r.Hint = c, detail, hint
	r.Status = Verdict(r.Cause, r.Findings)
}

// AddFinding reports f alongside the main cause and settles the status. The
// findings are copied first, so a Result copied by value never shares them.
func (r *Result) AddFinding(f Finding) {
	r.Findings = append(slices.Clip(r.Findings), f)
	r.Status = Verdict(r.Cause, r.Findings)
}

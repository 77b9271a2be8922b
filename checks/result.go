package checks

import (
	"time"

	"github.com/credmon/credmon/checks/challenge"
)

// Result is what one check run produces. It never holds a secret: the
// credential appears only as its redacted Identity.
type Result struct {
	Env        string    `json:"env"`
	Check      string    `json:"check"`
	Credential string    `json:"credential"`
	Identity   string    `json:"identity,omitempty"` // e.g. "api_key Authorization: Bearer sk_live_…a1b2"
	Tick       time.Time `json:"tick"`               // the scheduled tick (or the start time for ad-hoc runs)
	Started    time.Time `json:"started"`
	RunBy      string    `json:"run_by,omitempty"` // the replica that ran it

	Status     Status        `json:"status"`
	Cause      Cause         `json:"cause"`
	HTTPStatus int           `json:"http_status,omitempty"`
	Latency    time.Duration `json:"latency"`
	Detail     string        `json:"detail"`
	Hint       string        `json:"hint,omitempty"`

	// Findings are secondary causes reported alongside the main one, such as
	// missing_challenge next to unauthorized, or server_clock_skew next to ok.
	Findings []Finding `json:"findings,omitempty"`

	// Band names the warning band a warn result falls in, with whatever
	// identifies the credential's current value (e.g. "fp:1a2b3c4d/7d"): an
	// incident alerts once per band and again when the credential changes.
	Band string `json:"band,omitempty"`

	Challenge        *challenge.Challenge `json:"challenge,omitempty"`
	Token            *TokenInfo           `json:"token,omitempty"`
	ServerTimeOffset time.Duration        `json:"server_time_offset,omitempty"`
}

// Finding is a secondary cause with its own explanation.
type Finding struct {
	Cause  Cause  `json:"cause"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
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

// Key identifies a check across environments: "ENV/CHECK".
func (r Result) Key() string { return r.Env + "/" + r.Check }

// Worst returns the status of the main cause combined with the findings.
func (r Result) Worst() Status {
	s := r.Status
	for _, f := range r.Findings {
		if fs := f.Cause.Status(); fs.Rank() > s.Rank() {
			s = fs
		}
	}
	return s
}

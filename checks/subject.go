package checks

import "strings"

// SubjectKind says what a result is about.
type SubjectKind string

const (
	// SubjectCheck is a configured check (the zero value, so results of
	// checks need not say so).
	SubjectCheck SubjectKind = ""
	// SubjectCredential is one concern (rotation, expiry) of a credential,
	// which has no check of its own.
	SubjectCredential SubjectKind = "credential"
	// SubjectClock is the local clock against NTP.
	SubjectClock SubjectKind = "clock"
)

// Concerns of a credential: each is its own stream of results and its own
// incident, so an ok deadline never resolves an expiring token.
const (
	ConcernRotation = "rotation"
	ConcernExpiry   = "expiry"
)

// ClockName names the clock subject.
const ClockName = "clock"

// Subject is what a result, an incident and a message are about. Its key
// is built here and nowhere else, and nothing parses it back.
type Subject struct {
	Kind SubjectKind
	Env  string
	// Name is the check's or the credential's name, or ClockName.
	Name string
	// Concern is set for credential subjects: ConcernRotation or ConcernExpiry.
	Concern string
}

// CheckSubject is the subject of a configured check.
func CheckSubject(env, name string) Subject { return Subject{Kind: SubjectCheck, Env: env, Name: name} }

// CredentialSubject is the subject of one concern of a credential.
func CredentialSubject(env, name, concern string) Subject {
	return Subject{Kind: SubjectCredential, Env: env, Name: name, Concern: concern}
}

// Path names the subject within its environment — CHECK,
// credential:NAME/CONCERN or clock — in metric labels, the page and keys.
// The credential form is the one earlier versions stored, so stored
// results and incident records keep their keys.
func (s Subject) Path() string {
	switch s.Kind {
	case SubjectCredential:
		p := "credential:" + s.Name
		if s.Concern != "" {
			p += "/" + s.Concern
		}
		return p
	case SubjectClock:
		return ClockName
	}
	return s.Name
}

// Key identifies the subject across environments: "ENV/PATH".
func (s Subject) Key() string { return s.Env + "/" + s.Path() }

// IncidentKey is "ENV/PATH/FAMILY": the incident of this subject for a
// cause family (notify.Family). It also groups the incident's messages in
// the outbox, so everything said about one incident is delivered in order.
func (s Subject) IncidentKey(family string) string { return s.Key() + "/" + family }

// SubjectKeyOf is the Key of the subject an IncidentKey names ("" if k is
// not one): families have no slash, so it is all before the last.
func SubjectKeyOf(incidentKey string) string {
	i := strings.LastIndexByte(incidentKey, '/')
	if i <= 0 {
		return ""
	}
	return incidentKey[:i]
}

// Valid reports whether the subject can be keyed: a check or credential
// needs an environment and a name; the clock is one per host.
func (s Subject) Valid() bool {
	switch s.Kind {
	case SubjectCheck:
		return s.Env != "" && s.Name != ""
	case SubjectCredential:
		return s.Env != "" && s.Name != "" && s.Concern != ""
	case SubjectClock:
		return true
	}
	return false
}

// Band is the warning band a warn result falls in, for one value of a
// credential: an incident alerts once per band, and afresh when Value
// (which key or token it is about) changes.
type Band struct {
	// Value tells one key's bands from another's: the first 8 hex digits
	// of its fingerprint, a deadline's date, or "nokey".
	Value string
	// Label is the band: "14d", "7d", "overdue", "expired", "previous".
	Label string
}

// IsZero reports the absence of a band.
func (b Band) IsZero() bool { return b == Band{} }

// String is "VALUE/LABEL", for people and for storage.
func (b Band) String() string {
	if b.IsZero() {
		return ""
	}
	if b.Value == "" {
		return b.Label
	}
	return b.Value + "/" + b.Label
}

// MarshalText stores a band in the shape earlier versions wrote.
func (b Band) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText reads a stored band. It is the only place the text form
// is read back; in memory a band is always the struct.
func (b *Band) UnmarshalText(text []byte) error {
	s := string(text)
	if i := strings.LastIndex(s, "/"); i >= 0 {
		*b = Band{Value: s[:i], Label: s[i+1:]}
	} else {
		*b = Band{Label: s}
	}
	return nil
}

package daemon

import (
	"maps"
	"slices"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/clock"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/schedule"
)

// generation is everything one configuration builds that runs with it:
// its checks and its credentials (the scheduler's jobs, built with it,
// are the scheduler's once handed over). A reload builds a new generation
// beside the running one and swaps it in whole; whatever the old one had
// and the new one lacks — a check, a credential — is then forgotten
// everywhere it left state (see Daemon.forget).
type generation struct {
	cfg    *config.Config
	built  []*checks.Check
	checks map[string]*checks.Check // by subject key, ENV/CHECK
	// creds holds every configured credential by ENV/NAME.
	creds map[string]credentialRef
}

// credentialRef names one configured credential.
type credentialRef struct{ env, name string }

func (c credentialRef) key() string { return c.env + "/" + c.name }

// subjects are the credential's result streams: one per concern.
func (c credentialRef) subjects() []checks.Subject {
	return []checks.Subject{
		checks.CredentialSubject(c.env, c.name, checks.ConcernRotation),
		checks.CredentialSubject(c.env, c.name, checks.ConcernExpiry),
	}
}

// build makes the generation of cfg and the scheduler's jobs for it.
// Nothing runs until the daemon swaps it in.
func (d *Daemon) build(cfg *config.Config) (*generation, []schedule.Job, error) {
	built, err := checks.Build(cfg, d.deps)
	if err != nil {
		return nil, nil, err
	}
	g := &generation{cfg: cfg, built: built, checks: make(map[string]*checks.Check, len(built)), creds: map[string]credentialRef{}}
	jobs := make([]schedule.Job, 0, len(built))
	for _, c := range built {
		g.checks[c.Key()] = c
		timeout := c.Cfg.Timeout.D() + time.Second // the probe enforces its own timeout first
		jobs = append(jobs, schedule.Job{ID: c.Key(), Labels: schedule.Labels{Env: c.Env, Check: c.Name}, Spec: c.Cfg.Schedule, Timeout: timeout, Run: d.runner(c.Key(), timeout)})
	}
	for envName, env := range cfg.Environments {
		for name := range env.Credentials {
			ref := credentialRef{envName, name}
			g.creds[ref.key()] = ref
			jobs = append(jobs, schedule.Job{ID: credentialJobID(envName, name), Labels: credentialJobLabels(envName, name), Spec: d.credentialSchedule(), Timeout: time.Minute, Run: d.credentialRunner(envName, name)})
		}
	}
	if len(cfg.Clock.NTPServers) > 0 {
		checker := clock.New(cfg.Clock.NTPServers, cfg.Clock.MaxOffset.D(), clock.Options{})
		jobs = append(jobs, schedule.Job{ID: clockJobID, Labels: schedule.Labels{Check: checks.ClockName}, Spec: cfg.Clock.Schedule, Timeout: 30 * time.Second, Run: d.clockRunner(checker)})
	}
	return g, jobs, nil
}

// knows reports whether s is a subject of this generation: a configured
// check, a concern of a configured credential, or the clock.
func (g *generation) knows(s checks.Subject) bool {
	switch s.Kind {
	case checks.SubjectCredential:
		_, ok := g.creds[s.Env+"/"+s.Name]
		return ok
	case checks.SubjectClock:
		return true
	}
	_, ok := g.checks[s.Key()]
	return ok
}

// gone is what old has and g lacks: the subjects of removed checks and
// credentials, and the removed credentials, each sorted by key.
func (g *generation) gone(old *generation) (subjects []checks.Subject, creds []credentialRef) {
	if old == nil {
		return nil, nil
	}
	for _, k := range slices.Sorted(maps.Keys(old.checks)) {
		if g.checks[k] == nil {
			c := old.checks[k]
			subjects = append(subjects, checks.CheckSubject(c.Env, c.Name))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(old.creds)) {
		if _, ok := g.creds[k]; !ok {
			ref := old.creds[k]
			creds = append(creds, ref)
			subjects = append(subjects, ref.subjects()...)
		}
	}
	return subjects, creds
}

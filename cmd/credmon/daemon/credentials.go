package daemon

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/notify"
)

// credentialSchedule is how often each credential's deadlines, expiry,
// fingerprint and previous key are evaluated by default. A rotation by
// redeploy is seen at start; a rewritten secret file within this interval.
const credentialSchedule = "@every 1m"

func (d *Daemon) credentialSchedule() string {
	if d.opts.CredentialSchedule != "" {
		return d.opts.CredentialSchedule
	}
	return credentialSchedule
}

// credentialJobID names a credential's evaluation job and its tick claims.
func credentialJobID(env, name string) string {
	return checks.CredentialSubject(env, name, "").Key()
}

// credentialJobLabels name a credential's evaluation job in the
// scheduler's series.
func credentialJobLabels(env, name string) schedule.Labels {
	return schedule.Labels{Env: env, Check: checks.CredentialSubject(env, name, "").Path()}
}

// credentialRunner evaluates one credential's rotation and expiry.
func (d *Daemon) credentialRunner(env, name string) func(ctx context.Context, tick time.Time) {
	id := credentialJobID(env, name)
	return func(ctx context.Context, tick time.Time) {
		d.mu.RLock()
		var cred *config.Credential
		if e := d.gen.cfg.Environments[env]; e != nil {
			cred = e.Credential(name)
		}
		built := d.gen.built
		d.mu.RUnlock()
		if cred == nil || !d.claimTick(ctx, id, tick, time.Minute) {
			return
		}
		ev, err := d.rotation.Evaluate(ctx, cred, rotation.ProbeFor(built, env, name))
		if err != nil {
			d.log.Warn("credential evaluation failed", "credential", env+"/"+name, "err", err)
			return
		}
		// Rotation and expiry are separate concerns with separate incidents:
		// an ok deadline must not resolve an expiring token.
		for concern, r := range map[string]*checks.Result{checks.ConcernRotation: ev.Rotation, checks.ConcernExpiry: ev.Expiry} {
			if r == nil {
				continue
			}
			res := *r
			res.Kind, res.Env, res.Check, res.Credential, res.Concern = checks.SubjectCredential, env, "", name, concern
			if res.Tick.IsZero() {
				res.Tick = tick
			}
			d.record(ctx, res)
		}
		d.setDeadlines(env, name, ev.Deadlines)
		if ev.Rotated != nil {
			d.verifyRotation(ctx, ev.Rotated, built)
		}
		if ev.Pending != nil {
			d.notify(ctx, pendingMessage(ev.Pending))
		}
	}
}

// setDeadlines publishes a credential's deadlines to metrics and the page,
// unless a reload removed the credential while it was being evaluated.
func (d *Daemon) setDeadlines(env, name string, dls []rotation.Deadline) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.gen.creds[env+"/"+name]; !ok {
		return
	}
	if d.deadlines == nil {
		d.deadlines = map[string][]rotation.Deadline{}
	}
	d.deadlines[env+"/"+name] = dls
	for _, dl := range dls {
		d.metrics.SetDeadline(dl.Kind, dl.Env, dl.Credential, dl.At)
	}
}

// verifyRotation runs every check of a newly rotated credential at once and
// says, in one message, whether the new key works.
func (d *Daemon) verifyRotation(ctx context.Context, rot *rotation.Rotated, built []*checks.Check) {
	// The rotation was claimed already: finish even if shutdown begins, so
	// the one "rotated" message is not lost (shutdown waits for this run).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var results []checks.Result
	for _, c := range built {
		if c.Env == rot.Env && c.Cfg.Credential == rot.Credential {
			r := c.Run(ctx, time.Now())
			d.record(ctx, r)
			results = append(results, r)
		}
	}
	// The rotated message belongs to the rotation incident: one key, so one
	// outbox group, so it is delivered in order with what that incident says.
	m := notify.Message{
		ID:          "rotated/" + rot.Env + "/" + rot.Credential + "/" + rot.Fingerprint,
		IncidentKey: rotationIncidentKey(rot.Env, rot.Credential),
		Event:       notify.EventRotated,
		At:          time.Now(),
		Since:       rot.At,
		Env:         rot.Env,
		Credential:  rot.Credential,
		Identity:    rot.Identity,
		Status:      checks.StatusOK,
		Cause:       checks.CauseOK,
	}
	var failed []string
	for _, r := range results {
		if s := r.Status; s == checks.StatusFail || s == checks.StatusError {
			failed = append(failed, r.Check+" ("+string(r.Cause)+")")
			m.Status, m.Cause, m.HTTPStatus, m.Hint = r.Status, r.Cause, r.HTTPStatus, r.Hint
		}
	}
	sort.Strings(failed)
	switch {
	case len(results) == 0:
		m.Detail = "The key of " + rot.Credential + " was rotated (fingerprint " + rot.Previous + " → " + rot.Fingerprint + "); no check uses it, so it was not verified."
	case len(failed) == 0:
		m.Detail = "The key of " + rot.Credential + " was rotated (fingerprint " + rot.Previous + " → " + rot.Fingerprint + ") and the new key works: " + plural(len(results), "check") + " passed."
	default:
		m.Detail = "The key of " + rot.Credential + " was rotated (fingerprint " + rot.Previous + " → " + rot.Fingerprint + ") but the new key FAILS: " + strings.Join(failed, ", ") + "."
	}
	d.notify(ctx, m)
}

// pendingMessage tells once that a secret store's pending version works,
// before it is promoted; one that fails is the rotation concern's fail.
func pendingMessage(p *rotation.Pending) notify.Message {
	return notify.Message{
		ID:          "pending/" + p.Env + "/" + p.Credential + "/" + p.Version,
		IncidentKey: rotationIncidentKey(p.Env, p.Credential),
		Event:       notify.EventPendingVerified,
		At:          time.Now(),
		Env:         p.Env,
		Credential:  p.Credential,
		Identity:    p.Result.Identity,
		Status:      checks.StatusOK,
		Cause:       checks.CauseOK,
		HTTPStatus:  p.Result.HTTPStatus,
		Detail:      p.Result.Detail,
	}
}

// rotationIncidentKey is the key of a credential's rotation incident.
func rotationIncidentKey(env, credential string) string {
	return checks.CredentialSubject(env, credential, checks.ConcernRotation).IncidentKey(notify.FamilyRotation)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// evaluateCredentialsNow runs every credential's evaluation once at start,
// so a rotation by redeploy and the deadlines show at once rather than at
// the next minute. It claims the minute tick that just passed, so among
// replicas starting together only one evaluates each credential.
func (d *Daemon) evaluateCredentialsNow(ctx context.Context) {
	d.mu.RLock()
	var runs []func(context.Context, time.Time)
	for envName, env := range d.gen.cfg.Environments {
		for name := range env.Credentials {
			runs = append(runs, d.credentialRunner(envName, name))
		}
	}
	d.mu.RUnlock()
	tick := time.Now().Truncate(time.Minute)
	for _, run := range runs {
		if ctx.Err() != nil {
			return
		}
		run(ctx, tick)
	}
}

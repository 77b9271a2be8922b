package notify

import (
	"fmt"
	"slices"
	"time"

	"github.com/credmon/credmon/checks"
)

// record is the incident state of one subject (checks.Subject.Key) as the KV
// holds it. Counters live per subject, not per incident, because a check's
// consecutive failures count across causes and families.
type record struct {
	Env     string `json:"env"`
	Subject string `json:"subject"`
	// Last is the Started (or Tick) of the newest result applied: a result
	// not newer is a duplicate (the same run observed by another replica)
	// or a late run of an earlier tick, and changes nothing.
	Last      time.Time `json:"last,omitzero"`
	Failures  int       `json:"failures"`
	Successes int       `json:"successes"`
	// Seq counts the messages ever produced for the subject; it makes
	// message IDs unique and deterministic.
	Seq  uint64         `json:"seq"`
	Open *IncidentState `json:"open,omitempty"`
	// Bands already alerted in the open incident for the credential value
	// named by Open.Band; they survive restarts because they are here.
	Bands []checks.Band `json:"bands,omitempty"`
}

// step applies r to rec and returns the messages the transition produces.
// applied is false when r was a duplicate or stale and rec is unchanged.
func (rec *record) step(r checks.Result, now time.Time, o IncidentOptions, owner string) (msgs []Message, applied bool) {
	if t := resultTime(r); !t.IsZero() {
		// A result no newer than the last applied is a duplicate or a late
		// run of an earlier tick — unless that last one is further ahead of
		// this clock than replicas' clocks may differ: then a clock that
		// runs ahead (another replica's) or a damaged record wrote it, and
		// trusting it would drop every result until this clock caught up.
		if !rec.Last.IsZero() && !t.After(rec.Last) && !rec.Last.After(now.Add(lastAheadLimit)) {
			return nil, false
		}
		rec.Last = t
	}
	subject := r.Subject()
	rec.Env, rec.Subject = r.Env, subject.Path()
	emit := func(ev Event, in *IncidentState, m Message) {
		rec.Seq++
		m.ID = fmt.Sprintf("%s/%d-%d-%s", in.Key, in.Since.UnixMilli(), rec.Seq, ev)
		m.Event = ev
		in.LastNotified = now
		in.NotifiedBy = owner
		msgs = append(msgs, m)
	}

	// Incidents follow the main cause, never the findings. r.Status is the
	// verdict every output shows (ok next to server_clock_skew is warn),
	// but a cause without a family — ok, or a finding-only cause — is a
	// success here: a warn finding never opens or keeps an incident.
	fam := Family(r.Cause)
	if fam == "" {
		rec.Failures = 0
		rec.Successes++
		if in := rec.Open; in != nil && rec.Successes >= o.SuccessThreshold {
			if *o.SendResolved {
				m := message(r, in, now)
				m.PrevCause = in.Cause
				emit(EventResolved, in, m)
			}
			rec.Open, rec.Bands = nil, nil
		}
		return msgs, true
	}

	rec.Successes = 0
	rec.Failures++
	threshold := o.FailureThreshold
	if r.Cause.Status() == checks.StatusWarn {
		// A warning is a deadline, not a flake: waiting for a second run
		// only delays it.
		threshold = 1
	}
	in := rec.Open
	switch {
	case in == nil || in.Family != fam:
		if rec.Failures < threshold {
			// An open incident of another family stays open until the new
			// problem is confirmed: the check has not recovered.
			return msgs, true
		}
		if in != nil {
			// The old problem is gone and a different one is confirmed:
			// resolve the old incident so its thread closes, then open the
			// new one, which gets its own key, thread and reminders.
			m := message(r, in, now)
			m.Status, m.Cause, m.PrevCause = checks.StatusOK, checks.CauseOK, in.Cause
			m.Detail = fmt.Sprintf("%s is no longer reported; %s now reports %s (a new %s incident).",
				in.Cause, in.Subject, r.Cause, fam)
			m.Hint, m.Band = "", checks.Band{}
			if *o.SendResolved {
				emit(EventResolved, in, m)
			}
		}
		in = &IncidentState{
			Key:     subject.IncidentKey(fam),
			Env:     r.Env,
			Subject: subject.Path(),
			Family:  fam,
			Since:   now,
		}
		in.update(r)
		rec.Open, rec.Bands = in, nil
		if !r.Band.IsZero() {
			rec.Bands = []checks.Band{r.Band}
		}
		emit(EventOpened, in, message(r, in, now))
	case r.Cause != in.Cause:
		prev := in.Cause
		rec.noteBand(r.Band)
		in.update(r)
		m := message(r, in, now)
		m.PrevCause = prev
		emit(EventCauseChanged, in, m)
	case !r.Band.IsZero():
		// A banded warning alerts once per band and never reminds: the
		// next band is the reminder.
		fresh := rec.noteBand(r.Band)
		in.update(r)
		if fresh {
			emit(EventBand, in, message(r, in, now))
		}
	default:
		in.update(r)
		if o.RemindEvery > 0 && now.Sub(in.LastNotified) >= o.RemindEvery {
			emit(EventReminder, in, message(r, in, now))
		}
	}
	return msgs, true
}

// removed is the message that resolves rec's open incident because its
// subject left the configuration.
func (rec *record) removed(now time.Time, owner string) Message {
	in := rec.Open
	rec.Seq++
	m := Message{
		ID:          fmt.Sprintf("%s/%d-%d-%s", in.Key, in.Since.UnixMilli(), rec.Seq, EventResolved),
		IncidentKey: in.Key,
		Event:       EventResolved,
		At:          now,
		Since:       in.Since,
		Env:         in.Env,
		Check:       in.Check,
		Credential:  in.Credential,
		Identity:    in.Identity,
		Status:      checks.StatusOK,
		Cause:       checks.CauseOK,
		PrevCause:   in.Cause,
		Detail:      fmt.Sprintf("%s was removed from the configuration; its %s incident is closed.", in.Subject, in.Cause),
	}
	in.LastNotified, in.NotifiedBy = now, owner
	return m
}

// noteBand records band in the open incident and reports whether it had
// not been alerted yet. A band for another credential value (Band.Value,
// e.g. "1a2b3c4d") starts the set afresh: a new key or token deserves its
// own warnings.
func (rec *record) noteBand(band checks.Band) bool {
	if band.IsZero() {
		return false
	}
	if len(rec.Bands) > 0 && rec.Bands[len(rec.Bands)-1].Value != band.Value {
		rec.Bands = nil
	}
	if slices.Contains(rec.Bands, band) {
		return false
	}
	rec.Bands = append(rec.Bands, band)
	return true
}

// update copies what the latest result says about an open incident.
func (in *IncidentState) update(r checks.Result) {
	in.Check, in.Credential, in.Identity = r.Check, r.Credential, r.Identity
	in.Cause, in.Status = r.Cause, r.Status
	if !r.Band.IsZero() {
		in.Band = r.Band
	}
}

// message fills a message from the result that caused the transition.
func message(r checks.Result, in *IncidentState, now time.Time) Message {
	return Message{
		IncidentKey: in.Key,
		At:          now,
		Since:       in.Since,
		Env:         r.Env,
		Check:       r.Check,
		Credential:  r.Credential,
		Identity:    r.Identity,
		Status:      r.Status,
		Cause:       r.Cause,
		HTTPStatus:  r.HTTPStatus,
		Detail:      r.Detail,
		Hint:        r.Hint,
		Band:        r.Band,
		Findings:    slices.Clone(r.Findings),
		Challenge:   r.Challenge,
		Token:       r.Token,
	}
}

// resultTime orders results of one subject: when the run started, or its
// tick; zero when the result carries neither and cannot be deduplicated.
// lastAheadLimit is how far ahead of this replica's clock the last
// applied result may be and still be trusted to order the next ones: more
// than replicas' clocks should ever differ (clock.max_offset defaults to
// far less), less than the outage a drop would otherwise cause.
const lastAheadLimit = 5 * time.Minute

func resultTime(r checks.Result) time.Time {
	if !r.Started.IsZero() {
		return r.Started
	}
	return r.Tick
}

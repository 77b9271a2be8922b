package checks

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/credmon/credmon/checks/duration"
)

// usualLeeway is the clock leeway resource-server libraries allow by
// default when they check exp and nbf: 30 s (Microsoft.IdentityModel uses
// 5 min, jose and Spring 60 s, many 30 s). Within it two clocks agree.
const (
	usualLeewayLow  = 30 * time.Second
	usualLeewayHigh = 60 * time.Second
)

// clocks is what a probe knows about time besides its own clock.
type clocks struct {
	server      time.Duration // the server's Date minus our clock at the round trip's midpoint
	serverKnown bool
	ntp         time.Duration // NTP time minus our clock
	ntpKnown    bool
}

// clocks reads the server's Date (RTT accounted) and our NTP offset.
func (c *Check) clocks(ex *exchange) clocks {
	var k clocks
	if d := ex.header.Get("Date"); d != "" {
		if st, err := http.ParseTime(d); err == nil {
			// Date has one-second resolution and was stamped somewhere
			// within the round trip: compare with the midpoint, and take
			// the middle of the second Date cut off.
			k.server, k.serverKnown = st.Add(500*time.Millisecond).Sub(ex.sent.Add(ex.latency/2)), true
		}
	}
	if c.deps.ClockOffset != nil {
		k.ntp, k.ntpKnown = c.deps.ClockOffset()
	}
	return k
}

// serverClock reports a server clock off beyond max_offset + RTT.
func (c *Check) serverClock(res *Result, ex *exchange, k clocks) {
	if !k.serverKnown {
		return
	}
	res.ServerTimeOffset = k.server.Round(time.Millisecond)
	tolerance := c.deps.MaxOffset + ex.latency + time.Second
	if absDur(k.server) > tolerance {
		res.AddFinding(Finding{Cause: CauseServerClockSkew,
			Detail: fmt.Sprintf("The server's clock is %s %s ours (Date: %s)", absDur(k.server).Round(time.Second), aheadBehind(k.server), clip(ex.text(ex.header.Get("Date")), 64)),
			Hint:   "Token lifetimes are judged by the server's clock: expect early or late expiry. Tell the API owner, or check our own clock (clock_skew)."})
	}
}

// validity says how a token's exp and nbf read at one moment.
func validity(t *TokenInfo, at time.Time) (ok bool, text string) {
	switch {
	case t.NotBefore != nil && t.NotBefore.After(at):
		return false, "is not valid for another " + duration.Human(t.NotBefore.Sub(at)) + " (nbf)"
	case t.ExpiresAt != nil && !t.ExpiresAt.After(at):
		return false, "expired " + duration.Human(at.Sub(*t.ExpiresAt)) + " ago"
	case t.ExpiresAt != nil:
		return true, "is valid for another " + duration.Human(t.ExpiresAt.Sub(at))
	}
	return true, "is valid"
}

// clockHint says whether a rejected token would be valid by the server's
// clock and by NTP time, and how far the clocks disagree against the usual
// leeway. "" when the token has no exp or nbf, or no other clock is known.
func clockHint(t *TokenInfo, now time.Time, k clocks) string {
	if t == nil || (t.ExpiresAt == nil && t.NotBefore == nil) || (!k.serverKnown && !k.ntpKnown) {
		return ""
	}
	var parts []string
	oursOK, ours := validity(t, now)
	if k.serverKnown {
		srvOK, srv := validity(t, now.Add(k.server))
		parts = append(parts, fmt.Sprintf("By our clock the token %s; by the server's (its Date is %s) it %s.", ours, offsetPhrase(k.server)+" ours", srv))
		parts = append(parts, leewaySentence(k.server, oursOK != srvOK))
	}
	if k.ntpKnown {
		_, ntp := validity(t, now.Add(k.ntp))
		// k.ntp is NTP time minus ours: our clock is offsetPhrase(-k.ntp) NTP.
		parts = append(parts, fmt.Sprintf("By NTP time (our clock is %s NTP) it %s.", offsetPhrase(-k.ntp), ntp))
		if k.serverKnown {
			if off := k.server - k.ntp; absDur(off) > usualLeewayHigh {
				parts = append(parts, fmt.Sprintf("The server's clock is %s NTP time: it is the one to fix.", offsetPhrase(off)))
			} else if absDur(k.ntp) > usualLeewayHigh {
				parts = append(parts, "Our clock is the one off: fix NTP where credmon runs.")
			}
		}
	}
	return strings.Join(parts, " ")
}

// offsetPhrase renders how far d puts one clock from another: "5m
// ahead of", "5m behind", "in step with".
func offsetPhrase(d time.Duration) string {
	if d = d.Round(time.Second); d == 0 {
		return "in step with"
	}
	return offsetText(d) + " " + aheadBehind(d)
}

// offsetText renders a clock difference to the second ("4m59s", "5m"):
// against a leeway of 30–60 s, seconds matter.
func offsetText(d time.Duration) string {
	s := absDur(d).Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// leewaySentence weighs a clock disagreement against the usual leeway.
func leewaySentence(d time.Duration, judgedDifferently bool) string {
	a, at := absDur(d).Round(time.Second), offsetText(d)
	switch {
	case a <= usualLeewayLow && judgedDifferently:
		return fmt.Sprintf("The clocks agree within %s, inside the usual 30–60 s leeway: the token is simply at the edge of its lifetime.", at)
	case a <= usualLeewayLow:
		return fmt.Sprintf("The clocks agree within %s, inside the usual 30–60 s leeway, so time does not explain the rejection.", at)
	case a <= usualLeewayHigh:
		return fmt.Sprintf("The clocks disagree by %s, within a 60 s leeway but beyond a 30 s one: a server with the stricter default judges the token by its own clock — fix NTP on whichever host is off.", at)
	case judgedDifferently:
		return fmt.Sprintf("The clocks disagree by %s, beyond the usual 30–60 s leeway: that is why the token was rejected — fix NTP on whichever host is off (credmon status shows our offset).", at)
	}
	return fmt.Sprintf("The clocks disagree by %s, beyond the usual 30–60 s leeway, though the token reads the same by both — fix NTP on whichever host is off.", at)
}

// withClock adds the clock reading to a hint.
func withClock(hint, clock string) string {
	if clock == "" {
		return hint
	}
	return clock + " " + hint
}

// futureClaimHint explains a token that is not valid yet by our clock (nbf
// or iat in the future): a clock is off, here or at the issuer, beyond the
// server's leeway.
func futureClaimHint(t *TokenInfo, now time.Time, k clocks) string {
	if t == nil {
		return ""
	}
	for _, c := range []struct {
		name string
		at   *time.Time
	}{{"nbf (not before)", t.NotBefore}, {"iat (issued at)", t.IssuedAt}} {
		if c.at != nil && c.at.After(now.Add(time.Second)) {
			hint := fmt.Sprintf("The token's %s is %s, %s in the future by our clock: a clock is off here or at the issuer, beyond the server's leeway — check NTP on both (credmon status shows our offset).",
				c.name, c.at.UTC().Format(time.RFC3339), duration.Human(c.at.Sub(now)))
			if h := clockHint(t, now, k); h != "" {
				hint += " " + h
			}
			return hint
		}
	}
	return ""
}

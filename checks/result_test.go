package checks_test

import (
	"testing"

	"github.com/credmon/credmon/checks"
)

func TestVerdictIsTheWorstOfCauseAndFindings(t *testing.T) {
	skew := checks.Finding{Cause: checks.CauseServerClockSkew, Detail: "skewed"}
	noChallenge := checks.Finding{Cause: checks.CauseMissingChallenge, Detail: "no challenge"}
	for _, tc := range []struct {
		cause    checks.Cause
		findings []checks.Finding
		want     checks.Status
	}{
		{checks.CauseOK, nil, checks.StatusOK},
		{checks.CauseOK, []checks.Finding{skew}, checks.StatusWarn},
		{checks.CauseTokenExpiring, []checks.Finding{skew}, checks.StatusWarn},
		{checks.CauseUnauthorized, []checks.Finding{noChallenge}, checks.StatusFail},
		{checks.CauseUnexpectedStatus, []checks.Finding{skew}, checks.StatusError},
		{checks.CauseRotationDue, []checks.Finding{{Cause: checks.CausePreviousKeyStillValid}}, checks.StatusFail},
	} {
		if got := checks.Verdict(tc.cause, tc.findings); got != tc.want {
			t.Errorf("Verdict(%s, %v) = %s, want %s", tc.cause, tc.findings, got, tc.want)
		}
	}
}

func TestSetCauseAndAddFindingSettleStatus(t *testing.T) {
	var r checks.Result
	r.SetCause(checks.CauseOK, "The API answered 200 OK", "")
	if r.Status != checks.StatusOK {
		t.Fatalf("ok: status %s", r.Status)
	}
	r.AddFinding(checks.Finding{Cause: checks.CauseServerClockSkew, Detail: "5m ahead"})
	if r.Status != checks.StatusWarn || r.Cause != checks.CauseOK {
		t.Fatalf("ok + server_clock_skew: %s/%s, want warn/ok", r.Status, r.Cause)
	}
	// A later main cause is judged with the findings already reported.
	r.SetCause(checks.CauseRevoked, "revoked", "issue a new one")
	if r.Status != checks.StatusFail {
		t.Fatalf("revoked + finding: status %s", r.Status)
	}

	// Copies of a result do not share findings added later, even when the
	// slice they started from has room to grow.
	base := checks.Result{Findings: append(make([]checks.Finding, 0, 4), checks.Finding{Cause: checks.CauseServerClockSkew})}
	base.SetCause(checks.CauseOK, "ok", "")
	a, b := base, base
	a.AddFinding(checks.Finding{Cause: checks.CauseMissingChallenge})
	b.AddFinding(checks.Finding{Cause: checks.CauseServerClockSkew, Detail: "b"})
	if a.Findings[1].Cause != checks.CauseMissingChallenge || len(base.Findings) != 1 {
		t.Fatalf("findings shared between copies: a=%+v base=%+v", a.Findings, base.Findings)
	}
}

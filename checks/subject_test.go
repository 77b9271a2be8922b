package checks

import "testing"

// SubjectKeyOf undoes IncidentKey, also for a subject whose path has
// slashes of its own (a credential's concern).
func TestSubjectKeyOfUndoesIncidentKey(t *testing.T) {
	for _, s := range []Subject{
		{Env: "prod", Name: "payments-account"},
		{Kind: SubjectCredential, Env: "prod", Name: "payments-key", Concern: "rotation/overdue"},
	} {
		if got := SubjectKeyOf(s.IncidentKey("auth")); got != s.Key() {
			t.Errorf("SubjectKeyOf(%q) = %q, want %q", s.IncidentKey("auth"), got, s.Key())
		}
	}
	for _, k := range []string{"", "no-slash", "/leading"} {
		if got := SubjectKeyOf(k); got != "" {
			t.Errorf("SubjectKeyOf(%q) = %q, want \"\"", k, got)
		}
	}
}

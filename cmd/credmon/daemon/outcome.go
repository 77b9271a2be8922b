package daemon

import "github.com/credmon/credmon/checks"

// outcome is what the console remembers of a subject's last result: it
// prints a line when a subject is first seen and when this changes, not
// on every run. The history the page shows is the store's
// (store.Results.RecentStatuses), the same on every replica.
type outcome struct {
	status checks.Status
	cause  checks.Cause
}

package store

import (
	"errors"
	"strings"
	"testing"
)

// A damaged key and the decode error that quotes a damaged value are
// anyone's bytes, shown on the page, in the log and by the CLI: the
// message quotes only their beginnings.
func TestDamagedErrorQuotesLittle(t *testing.T) {
	long := strings.Repeat("x", 5000)
	var d Damage
	d.Add("prod/"+long, errors.New(`parsing time "`+long+`" as "2006-01-02T15:04:05Z07:00"`))
	d.Add("prod/b", errors.New("unused"))
	var e *DamagedError
	if !errors.As(d.Err(), &e) {
		t.Fatalf("Damage.Err() = %v, want a *DamagedError", d.Err())
	}
	msg := e.Error()
	if !strings.Contains(msg, "prod/xxx") || !strings.Contains(msg, "prod/b") || !strings.Contains(msg, `parsing time "xxx`) {
		t.Errorf("message %q lacks the keys or the reason", msg)
	}
	if len(msg) > damagedKeyShown+damagedErrShown+200 {
		t.Errorf("message is %d bytes, want the key and the reason cut", len(msg))
	}
	if r := e.Reason(); len(r) > damagedErrShown+len("…") {
		t.Errorf("Reason is %d bytes, want at most %d", len(r), damagedErrShown)
	}
}

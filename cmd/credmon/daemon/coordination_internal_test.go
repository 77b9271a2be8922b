package daemon

import (
	"testing"
	"time"
)

func TestTickKey(t *testing.T) {
	whole := time.Unix(1700000000, 0)
	if got := tickKey("prod/a", whole); got != "tick:prod/a:1700000000" {
		t.Errorf("whole second: %q", got)
	}
	half := whole.Add(250 * time.Millisecond)
	if got := tickKey("prod/a", half); got != "tick:prod/a:1700000000.250" {
		t.Errorf("sub-second: %q", got)
	}
}

package daemon

import "github.com/credmon/credmon/checks"

// historyLen is how many recent statuses the status page shows per check.
const historyLen = 20

// history is a check's recent statuses, newest last, in a fixed ring. It
// keeps statuses only: the full latest result lives in the store, and
// at 10,000 checks a copy here would cost ten megabytes.
type history struct {
	statuses  [historyLen]checks.Status
	n, next   int
	lastCause checks.Cause
}

// add records r and reports whether its status or cause differs from the
// previous result — the moments worth a console line.
func (h *history) add(r checks.Result) bool {
	changed := h.n == 0 || h.statuses[(h.next-1+historyLen)%historyLen] != r.Status || h.lastCause != r.Cause
	h.statuses[h.next] = r.Status
	h.next = (h.next + 1) % historyLen
	if h.n < historyLen {
		h.n++
	}
	h.lastCause = r.Cause
	return changed
}

// recent returns statuses newest first.
func (h *history) recent() []checks.Status {
	out := make([]checks.Status, 0, h.n)
	for i := 1; i <= h.n; i++ {
		out = append(out, h.statuses[(h.next-i+historyLen)%historyLen])
	}
	return out
}

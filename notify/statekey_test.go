package notify

import (
	"context"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// StateKeyOf names the very record the message was decided from: the
// incident engine's key for the subject, for a check and for a
// credential whose path has slashes of its own.
func TestStateKeyOfNamesTheRecordTheMessageCameFrom(t *testing.T) {
	for _, r := range []checks.Result{
		result(checks.CauseInvalidToken),
		{Kind: checks.SubjectCredential, Env: "prod", Credential: "payments-key", Concern: "rotation/overdue",
			Status: checks.StatusFail, Cause: checks.CauseInvalidToken, Detail: "d"},
	} {
		h := newHarness(t, IncidentOptions{FailureThreshold: 1})
		msgs := h.observe(r)
		if len(msgs) == 0 {
			t.Fatalf("%s: no message from a failure at threshold 1", r.Subject().Key())
		}
		ob := memstore.New()
		d := NewDispatcher(ob, []Notifier{nopNotifier{}}, DispatcherOptions{Owner: "replica-a"})
		if err := d.Enqueue(context.Background(), msgs[0]); err != nil {
			t.Fatal(err)
		}
		es, err := ob.Lease(context.Background(), "replica-a", 10, time.Minute)
		if err != nil || len(es) != 1 {
			t.Fatalf("Lease = %d, %v", len(es), err)
		}
		records, err := h.kv.Scan(context.Background(), kvPrefix)
		if err != nil || len(records) != 1 {
			t.Fatalf("incident records = %d, %v; want 1", len(records), err)
		}
		key := StateKeyOf(es[0])
		if _, ok := records[key]; !ok {
			t.Errorf("StateKeyOf = %q; the engine's record is under %v", key, keysOf(records))
		}
	}
	if got := StateKeyOf(store.OutboxEntry{Payload: []byte("not json")}); got != "" {
		t.Errorf("StateKeyOf(undecodable) = %q, want \"\"", got)
	}
}

type nopNotifier struct{}

func (nopNotifier) Name() string                                  { return "nop" }
func (nopNotifier) Notify(context.Context, Message) (bool, error) { return false, nil }

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

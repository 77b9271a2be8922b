package slack

import (
	"context"
	"errors"
	"testing"
)

func TestKVThreads(t *testing.T) {
	ctx := context.Background()
	kv := &memKV{}
	th := KVThreads(kv)

	ch, ts, err := th.GetThread(ctx, "prod/x/auth")
	if err != nil || ch != "" || ts != "" {
		t.Fatalf("unknown incident: %q %q %v", ch, ts, err)
	}
	if err := th.PutThread(ctx, "prod/x/auth", "C1", "1.2"); err != nil {
		t.Fatal(err)
	}
	if got := string(kv.m["slack:thread:prod/x/auth"]); got != `{"channel":"C1","ts":"1.2"}` {
		t.Errorf("stored %s", got)
	}
	if ch, ts, err = th.GetThread(ctx, "prod/x/auth"); err != nil || ch != "C1" || ts != "1.2" {
		t.Errorf("got %q %q %v", ch, ts, err)
	}

	kv.m["slack:thread:corrupt"] = []byte("{not json")
	if ch, ts, err = th.GetThread(ctx, "corrupt"); err != nil || ts != "" {
		t.Errorf("corrupt record: %q %q %v, want unknown", ch, ts, err)
	}

	boom := errors.New("redis down")
	kv.fail = boom
	if _, _, err := th.GetThread(ctx, "prod/x/auth"); !errors.Is(err, boom) {
		t.Errorf("Get error %v, want it wrapped", err)
	}
	if err := th.PutThread(ctx, "prod/x/auth", "C1", "1.3"); !errors.Is(err, boom) {
		t.Errorf("Put error %v, want it wrapped", err)
	}
}

func TestMemThreads(t *testing.T) {
	ctx := context.Background()
	th := &memThreads{}
	if _, ts, _ := th.GetThread(ctx, "k"); ts != "" {
		t.Fatal("unknown key has a thread")
	}
	_ = th.PutThread(ctx, "k", "C1", "1.2")
	if ch, ts, _ := th.GetThread(ctx, "k"); ch != "C1" || ts != "1.2" {
		t.Errorf("got %q %q", ch, ts)
	}
}

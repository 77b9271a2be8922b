package config

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeStore is a SecretStore whose answers the test sets.
type fakeStore struct {
	reads int
	read  StoreRead
	err   error
}

func (f *fakeStore) Read(context.Context) (StoreRead, error) {
	f.reads++
	return f.read, f.err
}

type fakeSpec struct {
	store *fakeStore
	every time.Duration
}

func (s *fakeSpec) Validate() []FieldProblem                  { return nil }
func (s *fakeSpec) Describe() string                          { return "fake prod/key" }
func (s *fakeSpec) RefreshEvery() time.Duration               { return s.every }
func (s *fakeSpec) Open(context.Context) (SecretStore, error) { return s.store, nil }

func TestStoreCacheRefreshesAndBacksOff(t *testing.T) {
	fs := &fakeStore{read: StoreRead{Current: StoreVersion{ID: "v1", Text: "sk_test_FAKEcurrent000000"}}}
	sec := fromStore("fake", &fakeSpec{store: fs})
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	sec.store.now = func() time.Time { return now }

	v, err := sec.Resolve()
	if err != nil || v.Text != "sk_test_FAKEcurrent000000" || v.Version != "v1" {
		t.Fatalf("resolve: %+v %v", v, err)
	}
	prev, _ := sec.WithStage(StagePrevious).Resolve()
	if !prev.Absent || prev.Text != "" || fs.reads != 1 {
		t.Fatalf("previous %+v after %d reads; want absent from the same read", prev, fs.reads)
	}
	// Within refresh_every (default 5m): no read.
	now = now.Add(DefaultRefreshEvery - time.Second)
	_, _ = sec.Resolve()
	if fs.reads != 1 {
		t.Fatalf("%d reads within refresh_every", fs.reads)
	}
	// Past it, throttled: the last values are served, and the store is
	// left alone for a doubling backoff.
	now = now.Add(2 * time.Second)
	fs.err = &StoreError{Msg: "throttled", Throttled: true}
	if v, err := sec.Resolve(); err != nil || v.Text != "sk_test_FAKEcurrent000000" {
		t.Fatalf("throttled: %+v %v; want the cached value", v, err)
	}
	_, _ = sec.Resolve()
	if fs.reads != 2 {
		t.Fatalf("%d reads; want none while backing off", fs.reads)
	}
	now = now.Add(time.Second)
	_, _ = sec.Resolve() // backoff 1s over: asks, throttled again -> 2s
	now = now.Add(time.Second)
	_, _ = sec.Resolve()
	if fs.reads != 3 {
		t.Fatalf("%d reads; want the backoff to double", fs.reads)
	}
	// Another error is an error with its hint, remembered for at most a minute.
	now = now.Add(time.Minute)
	fs.err = &StoreError{Msg: "fake prod/key: AccessDeniedException", Hint: "Allow fake:Read"}
	_, err = sec.Resolve()
	if !errors.Is(err, ErrSecretUnresolved) || StoreHint(err) != "Allow fake:Read" || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err %v hint %q", err, StoreHint(err))
	}
	if k := sec.Known(); len(k) != 3 || k[0] != "sk_test_FAKEcurrent000000" {
		t.Fatalf("known %q; want the last good values kept for redaction", k)
	}
}

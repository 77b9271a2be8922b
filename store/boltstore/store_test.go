package boltstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/storetest"
)

func open(t testing.TB, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "credmon.db"))
	})
}

func TestReopenKeepsResults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	ctx := context.Background()
	want := storetest.Full()
	older := storetest.Result(want.Env, want.Check, -time.Minute)
	s := open(t, path)
	if err := s.PutResult(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.PutResult(ctx, older); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	defer s.Close()
	got, err := s.RecentResults(ctx, want.Key(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Detail != want.Detail || got[1].Detail != older.Detail {
		t.Fatalf("after reopen RecentResults = %d results %v, want [%q %q]", len(got), got, want.Detail, older.Detail)
	}
	latest, err := s.LatestResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 1 || latest[0].Detail != want.Detail {
		t.Fatalf("after reopen LatestResults = %v, want [%q]", latest, want.Detail)
	}
}

func TestSecondOpenFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	s := open(t, path)
	defer s.Close()
	// bbolt's flock is per open file, so a second Open in this process
	// contends exactly as a second process would.
	_, err := boltstore.OpenTimeout(path, 50*time.Millisecond)
	if err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, bolt.ErrTimeout) || !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open error = %q; want a lock timeout naming the file", err)
	}
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	open(t, path).Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("file mode %v, want no group/other access", perm)
	}
}

func TestOpenMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "credmon.db")
	if _, err := boltstore.Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open in a missing directory = %v, want an error naming %s", err, path)
	}
}

func BenchmarkPutResult(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "credmon.db"))
	defer s.Close()
	storetest.BenchPutResult(b, s)
}

func BenchmarkLatestResults(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "credmon.db"))
	defer s.Close()
	storetest.BenchLatestResults(b, s)
}

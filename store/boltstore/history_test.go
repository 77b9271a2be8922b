package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/storetest"
)

// okRun is a typical passing probe of one check, minute i.
func okRun(i int) checks.Result {
	t := time.Date(2026, 12, 3, 6, i, 0, 0, time.UTC)
	return checks.Result{Env: "prod", Check: "c000042", Credential: "key", Identity: "api_key Authorization: Bearer sk_live_…",
		Tick: t, Started: t.Add(1234567 * time.Nanosecond), RunBy: "vm-24344", Status: checks.StatusOK, Cause: checks.CauseOK,
		HTTPStatus: 200, Latency: time.Duration(300000 + i), Detail: "The API answered 200 OK", ServerTimeOffset: -343 * time.Millisecond}
}

func TestHistoryOfTenRunsIsSmall(t *testing.T) {
	var v []byte
	jsonBytes := 0
	for i := range store.Keep {
		r := okRun(i)
		rec, err := newRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		v = addRecord(v, &rec, store.Keep)
		b, _ := json.Marshal(r)
		jsonBytes += len(b)
	}
	// The JSON of ten such results is ≈ 3.3 KB; a record that repeats its
	// neighbour's names, identity and detail is ≈ 40 bytes.
	if len(v) > 700 {
		t.Fatalf("ten ok results take %d bytes as a history value (%d as JSON), want ≤ 700", len(v), jsonBytes)
	}
	t.Logf("ten ok results: %d bytes as a history value, %d as JSON", len(v), jsonBytes)
	h := readHistory(v)
	for i := store.Keep - 1; i >= 0; i-- {
		rec, ok := h.next(true)
		if !ok {
			t.Fatalf("record %d: %v", i, h.err)
		}
		if want := okRun(i); !reflect.DeepEqual(rec.r, want) {
			t.Fatalf("record %d:\n got %#v\nwant %#v", i, rec.r, want)
		}
	}
}

func TestHistoryKeepsEveryFieldThroughNeighbours(t *testing.T) {
	// Full sets every field; each neighbour differs in some, so both
	// "same as newer" and stated values are read back.
	full, plain := storetest.Full(), storetest.Result("prod", "payments-account", time.Hour)
	plain.Identity = full.Identity
	var v []byte
	want := []checks.Result{plain, full, plain, full} // oldest first
	for i := range want {
		want[i].Started = full.Started.Add(time.Duration(i) * time.Minute)
		rec, err := newRecord(want[i])
		if err != nil {
			t.Fatal(err)
		}
		v = addRecord(v, &rec, store.Keep)
	}
	h := readHistory(v)
	for i := len(want) - 1; i >= 0; i-- {
		rec, ok := h.next(true)
		if !ok {
			t.Fatalf("record %d: %v", i, h.err)
		}
		if !reflect.DeepEqual(rec.r, want[i]) {
			t.Fatalf("record %d:\n got %#v\nwant %#v", i, rec.r, want[i])
		}
	}
}

func TestHistoryOfDamagedValueStartsAfresh(t *testing.T) {
	rec, err := newRecord(okRun(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range [][]byte{{}, {99, 1, 2}, {historyVersion, 200}, {historyVersion, 3, 1, 2, 3}} {
		h := readHistory(addRecord(old, &rec, store.Keep))
		got, ok := h.next(true)
		if !ok || got.r.Detail != rec.r.Detail {
			t.Fatalf("after %v: %v, %v", old, got.r, h.err)
		}
		if _, more := h.next(true); more {
			t.Fatalf("after %v: a second record survived a damaged value", old)
		}
	}
}

// oldKey is the result key of the layout before history values.
func oldKey(started time.Time, seq uint64) []byte {
	k := make([]byte, 20)
	binary.BigEndian.PutUint64(k[0:8], uint64(started.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:12], uint32(started.Nanosecond()))
	binary.BigEndian.PutUint64(k[12:20], seq)
	return k
}

func TestOpenConvertsTheOldLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 12 // more than Keep: the oldest two go
	err = db.Update(func(tx *bolt.Tx) error {
		res, _ := tx.CreateBucket(oldResults)
		latest, _ := tx.CreateBucket(oldLatest)
		statuses, _ := tx.CreateBucket(oldStatuses)
		for c := range 3 {
			r0 := okRun(0)
			r0.Check = fmt.Sprintf("c%d", c)
			b, _ := res.CreateBucket([]byte(r0.Key()))
			var data []byte
			for i := range runs {
				r := okRun(i)
				r.Check = r0.Check
				r.Detail = fmt.Sprintf("run %d", i)
				if i == runs-1 && c == 1 {
					r.Status, r.Cause = checks.StatusFail, checks.CauseUnauthorized
				}
				data, _ = json.Marshal(r)
				if err := b.Put(oldKey(r.Started, uint64(i+1)), data); err != nil {
					return err
				}
			}
			_ = latest.Put([]byte(r0.Key()), data)
			_ = statuses.Put([]byte(r0.Key()), []byte(`["ok"]`))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	got, err := s.RecentResults(ctx, "prod/c1", 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != store.Keep || got[0].Detail != "run 11" || got[store.Keep-1].Detail != "run 2" || got[0].Status != checks.StatusFail {
		t.Fatalf("converted history: %d results, newest %q (%s), oldest %q", len(got), got[0].Detail, got[0].Status, got[len(got)-1].Detail)
	}
	latest, err := s.LatestResults(ctx)
	if err != nil || len(latest) != 3 || latest[2].Detail != "run 11" {
		t.Fatalf("LatestResults after conversion: %v, %v", latest, err)
	}
	st, err := s.RecentStatuses(ctx)
	if err != nil || len(st["prod/c1"]) != store.Keep || st["prod/c1"][0] != checks.StatusFail || st["prod/c0"][0] != checks.StatusOK {
		t.Fatalf("RecentStatuses after conversion: %v, %v", st, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{oldResults, oldLatest, oldStatuses} {
			if tx.Bucket(name) != nil {
				return fmt.Errorf("bucket %s still there", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
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

// add is v with r added as a write adds it, failing t on any error.
func add(t testing.TB, v []byte, r checks.Result) []byte {
	t.Helper()
	rec, err := newRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	v, err = addRecord(v, &rec, store.Keep)
	if err != nil {
		t.Fatalf("add %s: %v", r.Started, err)
	}
	return v
}

func TestHistoryOfTenRunsIsSmall(t *testing.T) {
	var v []byte
	jsonBytes := 0
	for i := range store.Keep {
		r := okRun(i)
		v = add(t, v, r)
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
		v = add(t, v, want[i])
	}
	assertHistory(t, v, want)
}

func TestHistoryOfDamagedValueStartsAfresh(t *testing.T) {
	rec, err := newRecord(okRun(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range [][]byte{{}, {99, 1, 2}, {historyVersion, 200}, {historyVersion, 3, 1, 2, 3}} {
		v, err := addRecord(old, &rec, store.Keep)
		if !errors.Is(err, errHistory) {
			t.Errorf("after %v: addRecord error %v, want one wrapping errHistory", old, err)
		}
		h := readHistory(v)
		got, ok := h.next(true)
		if !ok || got.r.Detail != rec.r.Detail {
			t.Fatalf("after %v: %v, %v", old, got.r, h.err)
		}
		if _, more := h.next(true); more {
			t.Fatalf("after %v: a second record survived a damaged value", old)
		}
	}
}

// damagedHistory is a history of runs 0 … 5 (newest first) whose record
// of run 3 no longer reads: its frame is whole, its body garbage.
func damagedHistory(t *testing.T) []byte {
	t.Helper()
	var v []byte
	for i := range 6 {
		v = add(t, v, okRun(i))
	}
	data := v[1:]
	for range 2 { // runs 5 and 4
		var err error
		if _, data, err = nextFrame(data); err != nil {
			t.Fatal(err)
		}
	}
	body, _, err := nextFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 0xff // a varint that never ends
	}
	if h := readHistory(v); len(statuses(h)) != 2 || !errors.Is(h.err, errHistory) {
		t.Fatalf("damagedHistory: %v, want two records before the damage", h.err)
	}
	return v
}

// statuses reads h to its end or its damage.
func statuses(h *historyReader) []checks.Status {
	var out []checks.Status
	for rec, ok := h.next(false); ok; rec, ok = h.next(false) {
		out = append(out, rec.r.Status)
	}
	return out
}

// A write onto a value with a damaged record keeps every record before
// it, drops it and the ones after (they are relative to it), and says so.
func TestHistoryWithDamagedRecordKeepsWhatReads(t *testing.T) {
	for _, tc := range []struct {
		name    string
		run     int   // of the result added
		want    []int // runs read back, newest first
		wantErr string
	}{
		{"newest", 9, []int{9, 5, 4}, "kept the 2 older results"},
		{"late", 1, []int{5, 4, 1}, "kept the 2 older results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := newRecord(okRun(tc.run))
			if err != nil {
				t.Fatal(err)
			}
			v, err := addRecord(damagedHistory(t), &rec, store.Keep)
			if !errors.Is(err, errHistory) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("addRecord error %v, want errHistory saying %q", err, tc.wantErr)
			}
			h := readHistory(v)
			var got []int
			for rec, ok := h.next(true); ok; rec, ok = h.next(true) {
				if want := okRun(rec.r.Started.Minute()); !reflect.DeepEqual(rec.r, want) {
					t.Errorf("record of run %d:\n got %#v\nwant %#v", rec.r.Started.Minute(), rec.r, want)
				}
				got = append(got, rec.r.Started.Minute())
			}
			if h.err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("value written reads runs %v, %v; want %v and no error", got, h.err, tc.want)
			}
		})
	}
}

// Through the store: the new result is recorded beside what still reads,
// and PutResults reports the damage naming the check.
func TestPutResultOntoDamagedHistory(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "credmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := okRun(0).Key()
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHistory).Put([]byte(key), damagedHistory(t))
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.PutResults(ctx, []checks.Result{okRun(9)})
	if !errors.Is(err, errHistory) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "recorded") {
		t.Errorf("PutResults onto a damaged history = %v, want an errHistory naming %s", err, key)
	}
	got, err := s.RecentResults(ctx, key, store.Keep)
	if err != nil || len(got) != 3 || !reflect.DeepEqual(got[0], okRun(9)) || !reflect.DeepEqual(got[2], okRun(4)) {
		t.Fatalf("RecentResults after the write = %d results, %v; want runs 9, 5, 4", len(got), err)
	}
	// The damage is gone with that write.
	if err := s.PutResults(ctx, []checks.Result{okRun(10)}); err != nil {
		t.Errorf("second PutResults = %v, want nil", err)
	}
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
				if i == runs-1 && c == 2 {
					r.Started = okRun(i - 1).Started // a tie: write order decides
				}
				data, _ = json.Marshal(r)
				if err := b.Put(binary.BigEndian.AppendUint64(timeKey(r.Started), uint64(i+1)), data); err != nil {
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
	if got, err := s.RecentResults(ctx, "prod/c2", 2); err != nil || len(got) != 2 || got[0].Detail != "run 11" || got[1].Detail != "run 10" {
		t.Fatalf("converted history of two results started at once: %v, %v; want run 11, then run 10", got, err)
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

// BenchmarkAddRecord is the usual write: a new newest result onto a full
// history.
func BenchmarkAddRecord(b *testing.B) {
	var v []byte
	for i := range store.Keep {
		v = add(b, v, okRun(i))
	}
	rec, err := newRecord(okRun(store.Keep))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := addRecord(v, &rec, store.Keep); err != nil {
			b.Fatal(err)
		}
	}
}

// goldenRuns are the results of goldenHistory, oldest first: a late
// negative offset, a fixed zone, findings in the rest.
func goldenRuns() []checks.Result {
	a, b, c := okRun(0), okRun(1), okRun(2)
	b.Started = b.Started.In(time.FixedZone("", -5*3600))
	b.Tick = b.Tick.In(time.FixedZone("", -5*3600))
	b.Status, b.Cause, b.Detail, b.HTTPStatus = checks.StatusFail, checks.CauseUnauthorized, "401", 401
	b.Findings = []checks.Finding{{Cause: checks.CauseUnauthorized, Detail: "f"}}
	c.ServerTimeOffset = -1 << 40
	return []checks.Result{a, b, c}
}

// goldenHistory is the value of goldenRuns as written before this file
// had one parser for signed and unsigned varints: the format on disk.
const goldenHistory = "018101b09788b10d87ad4b00b09788b10d0000c4cf24ffffffffff3f9003010570726f640863303030303432046b6579012a6170695f6b657920417574686f72697a6174696f6e3a2042656172657220736b5f6c6976655fe280a609766d2d3234333434036f6b036f6b185468652041504920616e73776572656420323030204f4b01018402b89688b10d87ad4b9f9902b89688b10d009f9902c2cf24ff8e8ec702a20600000000000000056661696c0d756e617574686f72697a65640434303100c8017b22656e76223a22222c22636865636b223a22222c2263726564656e7469616c223a22222c227469636b223a22303030312d30312d30315430303a30303a30305a222c2273746172746564223a22303030312d30312d30315430303a30303a30305a222c22737461747573223a22222c226361757365223a22222c226c6174656e6379223a302c2264657461696c223a22222c2266696e64696e6773223a5b7b226361757365223a22756e617574686f72697a6564222c2264657461696c223a2266227d5d7d41c09588b10d87ad4b00c09588b10d0000c0cf24ff8e8ec702900300000000000000036f6b036f6b185468652041504920616e73776572656420323030204f4b0001"

// A value already on disk reads as it was written, and writing its
// records again gives the same bytes.
func TestHistoryFormatIsUnchanged(t *testing.T) {
	v, err := hex.DecodeString(goldenHistory)
	if err != nil {
		t.Fatal(err)
	}
	want := goldenRuns()
	assertHistory(t, v, want)
	// Records with their rest as stored, so a field added to
	// checks.Result later changes nothing here.
	var recs []record
	h := readHistory(v)
	for rec, ok := h.next(false); ok; rec, ok = h.next(false) {
		recs = append(recs, rec)
	}
	if got := hex.EncodeToString(encodeHistory(recs)); got != goldenHistory {
		t.Errorf("encodeHistory of the golden records:\n got %s\nwant %s", got, goldenHistory)
	}
}

// varint is the zig-zag decoding of uvarint: it reads what
// binary.AppendVarint writes, and fails where uvarint does.
func TestDecoderVarint(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 2, -2, 63, -64, 64, -65, 1 << 40, -1 << 40, math.MaxInt64, math.MinInt64} {
		d := decoder{b: binary.AppendVarint(nil, n)}
		if got := d.varint(); got != n || d.err != nil || len(d.b) != 0 {
			t.Errorf("varint of %d = %d, %v, %d bytes left", n, got, d.err, len(d.b))
		}
	}
	for _, b := range [][]byte{nil, {0x80}, bytes.Repeat([]byte{0xff}, 11)} {
		d := decoder{b: b}
		if d.varint(); !errors.Is(d.err, errHistory) {
			t.Errorf("varint of %x: err %v, want errHistory", b, d.err)
		}
	}
}

// assertHistory fails t unless v reads back as want, oldest first, and
// holds nothing more.
func assertHistory(t *testing.T, v []byte, want []checks.Result) {
	t.Helper()
	h := readHistory(v)
	for i := len(want) - 1; i >= 0; i-- {
		rec, ok := h.next(true)
		if !ok {
			t.Fatalf("record %d: %v", i, h.err)
		}
		if !reflect.DeepEqual(rec.r, want[i]) {
			t.Errorf("record %d:\n got %#v\nwant %#v", i, rec.r, want[i])
		}
	}
	if _, more := h.next(true); more || h.err != nil {
		t.Fatalf("after the last record: more %v, %v", more, h.err)
	}
}

// One check's damaged value does not fail the reads of every check: the
// others read whole, the damaged one keeps what reads before the damage
// (RecentStatuses) or is left out (LatestResults, whose newest record is
// garbage here), and a *store.DamagedError names it.
func TestReadsOfEveryCheckSkipADamagedValue(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "credmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	other := okRun(7)
	other.Check = "c000043"
	if err := s.PutResults(ctx, []checks.Result{other}); err != nil {
		t.Fatal(err)
	}
	cut, garbage := okRun(0).Key(), "prod/c000041"
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHistory)
		return errors.Join(b.Put([]byte(cut), damagedHistory(t)), b.Put([]byte(garbage), []byte{1, 0xff, 0xff}))
	})
	if err != nil {
		t.Fatal(err)
	}
	wantDamage := func(what string, err error) {
		t.Helper()
		var d *store.DamagedError
		if !errors.As(err, &d) || !errors.Is(err, errHistory) {
			t.Fatalf("%s error = %v, want a *store.DamagedError wrapping errHistory", what, err)
		}
		if !strings.Contains(d.Error(), garbage) {
			t.Errorf("%s error %q does not name %s", what, d.Error(), garbage)
		}
	}

	latest, err := s.LatestResults(ctx)
	wantDamage("LatestResults", err)
	var keys []string
	for _, r := range latest {
		keys = append(keys, r.Key())
	}
	// cut's newest record (run 5) reads: only garbage is left out.
	if want := []string{cut, other.Key()}; !slices.Equal(keys, want) {
		t.Errorf("LatestResults = %v, want %v", keys, want)
	}

	recent, err := s.RecentStatuses(ctx)
	wantDamage("RecentStatuses", err)
	if got := recent[cut]; len(got) != 2 {
		t.Errorf("RecentStatuses[%s] = %v, want the 2 statuses before the damage", cut, got)
	}
	if got := recent[other.Key()]; !slices.Equal(got, []checks.Status{checks.StatusOK}) {
		t.Errorf("RecentStatuses[%s] = %v, want [ok]", other.Key(), got)
	}
	if _, ok := recent[garbage]; ok {
		t.Errorf("RecentStatuses holds %s, whose value reads nothing", garbage)
	}
}

// A record whose rest is JSON of other types (a later version's record,
// read after a downgrade) reads with those fields unset and the others
// kept; a rest that is not JSON at all is damage a write drops, so that no
// value written stops a full read.
func TestHistoryRestOfAnotherVersion(t *testing.T) {
	banded := okRun(1)
	banded.Band = checks.Band{Value: "ab12cd34", Label: "7d"}
	rec, err := newRecord(banded)
	if err != nil {
		t.Fatal(err)
	}
	later := `{"findings":"now a string",` + string(rec.rest[1:])
	for _, tc := range []struct {
		rest     string
		wantRead bool
	}{
		{later, true},
		{later[:len(later)/2], false},
	} {
		v := encodeHistory([]record{{r: banded, rest: []byte(tc.rest)}})
		h := readHistory(v)
		r, ok := h.next(true)
		if ok != tc.wantRead {
			t.Errorf("rest %s: read %v (%v), want %v", tc.rest, ok, h.err, tc.wantRead)
			continue
		}
		if !ok {
			if _, err := addRecord(v, &record{r: okRun(2)}, store.Keep); !errors.Is(err, errHistory) {
				t.Errorf("rest %s: a write onto it reports %v, want the damage", tc.rest, err)
			}
			continue
		}
		if r.r.Band != banded.Band || r.r.Findings != nil || r.r.Detail != banded.Detail {
			t.Errorf("rest %s: read band %+v, findings %v, detail %q; want the band and core kept, findings unset", tc.rest, r.r.Band, r.r.Findings, r.r.Detail)
		}
	}
}

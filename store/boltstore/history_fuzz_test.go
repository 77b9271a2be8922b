package boltstore

import (
	"reflect"
	"testing"

	"github.com/credmon/credmon/store"
)

// FuzzHistory feeds arbitrary bytes as a stored history value (a damaged
// or hostile bolt file): reading it never panics, and a write onto it
// always yields a value that reads whole, within store.Keep records, and
// holds the record written unless Keep records that read are newer.
func FuzzHistory(f *testing.F) {
	var v []byte
	for i := range 4 {
		v = add(f, v, okRun(i))
		f.Add(append([]byte(nil), v...))
	}
	f.Add([]byte{})
	f.Add([]byte{historyVersion})
	f.Add([]byte{historyVersion, 0xff, 0xff, 0xff})
	f.Add([]byte{historyVersion, 3, 0, 0, 0})
	rec, err := newRecord(okRun(30))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, old []byte) {
		h := readHistory(old)
		for _, ok := h.next(true); ok; _, ok = h.next(true) {
		}
		v, _ := addRecord(old, &rec, store.Keep) // an error only tells of the damage
		h = readHistory(v)
		n, found := 0, false
		for r, ok := h.next(true); ok; r, ok = h.next(true) {
			found = found || reflect.DeepEqual(r.r, okRun(30))
			n++
		}
		if h.err != nil || n < 1 || n > store.Keep {
			t.Fatalf("value written reads %d records and %v; want 1 to %d and no error", n, h.err, store.Keep)
		}
		if !found && n < store.Keep {
			t.Fatalf("value written reads %d records without the one added", n)
		}
	})
}

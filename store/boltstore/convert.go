package boltstore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// The layout before history values: results/<ENV/CHECK>/<started, seq> →
// result JSON, a bucket per check, beside latest/<ENV/CHECK> and
// statuses/<ENV/CHECK>, which history values make redundant.
var (
	oldResults  = []byte("results")
	oldLatest   = []byte("latest")
	oldStatuses = []byte("statuses")
)

// convertResults moves a file's results from the old layout into history
// values, once, and drops the old buckets. A result that does not decode
// is skipped: results are rebuilt by the next runs.
func convertResults(tx *bolt.Tx) error {
	old := tx.Bucket(oldResults)
	if old != nil {
		hist := tx.Bucket(bucketHistory)
		err := old.ForEachBucket(func(key []byte) error {
			// Keys sort by Started, then by write order (timeKey ‖
			// sequence): from the last, newest first, as a history is.
			c := old.Bucket(key).Cursor()
			var recs []record
			for k, data := c.Last(); k != nil && len(recs) < store.Keep; k, data = c.Prev() {
				var r checks.Result
				if json.Unmarshal(data, &r) != nil {
					continue
				}
				rec, err := newRecord(r)
				if err != nil {
					continue
				}
				recs = append(recs, rec)
			}
			if len(recs) == 0 {
				return nil
			}
			return hist.Put(append([]byte(nil), key...), encodeHistory(recs))
		})
		if err != nil {
			return fmt.Errorf("convert results: %w", err)
		}
	}
	for _, name := range [][]byte{oldResults, oldLatest, oldStatuses} {
		if tx.Bucket(name) == nil {
			continue
		}
		if err := tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("convert results: drop %s: %w", name, err)
		}
	}
	return nil
}

package boltstore

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// Layout: history/<ENV/CHECK> → the check's kept results, newest first,
// as one value (history.go): LatestResults and RecentStatuses read one
// value per check, a write reads and replaces one. Files written before
// this layout (results/<ENV/CHECK>/<seq> JSON, latest/, statuses/) are
// converted on Open.
var bucketHistory = []byte("history")

// PutResult records r and trims its check to the newest store.Keep, in one
// transaction. The daemon writes through PutResults instead: one commit
// (one fsync) per batch rather than per probe.
func (s *Store) PutResult(ctx context.Context, r checks.Result) error {
	return s.PutResults(ctx, []checks.Result{r})
}

// PutResults records every result in one transaction.
func (s *Store) PutResults(ctx context.Context, rs []checks.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type enc struct {
		key []byte
		rec record
	}
	var errs []error
	encoded := make([]enc, 0, len(rs))
	for _, r := range rs {
		if !r.Subject().Valid() {
			errs = append(errs, store.ErrNoKey)
			continue
		}
		rec, err := newRecord(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("boltstore: encode result %s: %w", r.Key(), err))
			continue
		}
		encoded = append(encoded, enc{[]byte(r.Key()), rec})
	}
	var damaged []error
	err := s.db.Update(func(tx *bolt.Tx) error {
		damaged = damaged[:0]
		b := tx.Bucket(bucketHistory)
		// Values change size in place; full pages hold more checks.
		b.FillPercent = 0.9
		for i := range encoded {
			v, err := addRecord(b.Get(encoded[i].key), &encoded[i].rec, store.Keep)
			if err != nil {
				damaged = append(damaged, fmt.Errorf("boltstore: result %s recorded, but its stored history was damaged: %w", encoded[i].key, err))
			}
			if err := b.Put(encoded[i].key, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("boltstore: put %d results: %w", len(encoded), err))
	} else {
		// The results are written all the same: these tell of what was lost.
		errs = append(errs, damaged...)
	}
	return errors.Join(errs...)
}

// addRecord returns a new history value: old (nil for none) with rec in
// its place by Started, trimmed to the newest keep.
//
// A damaged old value loses only what no longer reads: its records are
// kept up to the first one that does not decode, which is dropped with
// every record after it (each is stored relative to the one before, so
// none after a damaged record reads either). The value returned is whole
// and err, wrapping errHistory, says how many old records were kept; the
// caller still writes the value, so the damage is gone after one write.
func addRecord(old []byte, rec *record, keep int) ([]byte, error) {
	if old == nil || keep <= 1 {
		return encodeHistory([]record{*rec}), nil
	}
	h := readHistory(old)
	first, ok := h.next(false)
	if !ok {
		return encodeHistory([]record{*rec}), damage(h, 0)
	}
	if !rec.r.Started.Before(first.r.Started) {
		// The usual case: rec is the newest. Only the record after it
		// changes; the older ones stay relative to theirs and are copied
		// as they are, once each has read.
		out := encodeHistory([]record{*rec, first})
		tail := h.raw()
		n := 1
		for ; n < keep-1; n++ {
			if _, ok := h.next(false); !ok {
				break
			}
		}
		return append(out, tail[:len(tail)-len(h.raw())]...), damage(h, n)
	}
	// A late result of an earlier run: rebuild in order.
	all := []record{first}
	for len(all) < keep {
		r, ok := h.next(false)
		if !ok {
			break
		}
		all = append(all, r)
	}
	n := len(all)
	i := 0
	for i < len(all) && !all[i].r.Started.Before(rec.r.Started) {
		i++
	}
	all = append(all[:i], append([]record{*rec}, all[i:]...)...)
	return encodeHistory(all[:min(len(all), keep)]), damage(h, n)
}

// damage is nil, or the error addRecord reports when h stopped on a
// record that does not read after kept ones that did.
func damage(h *historyReader, kept int) error {
	if h.err == nil {
		return nil
	}
	return fmt.Errorf("kept the %d older results before the damage, dropped the rest: %w", kept, h.err)
}

// RecentStatuses returns the statuses of every check's kept results,
// newest first.
func (s *Store) RecentStatuses(ctx context.Context) (map[string][]checks.Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string][]checks.Status{}
	var damage store.Damage
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHistory).ForEach(func(k, v []byte) error {
			var list []checks.Status
			h := readHistory(v)
			for rec, ok := h.next(false); ok; rec, ok = h.next(false) {
				list = append(list, rec.r.Status)
			}
			if h.err != nil {
				damage.Add(string(k), h.err)
			}
			if len(list) > 0 {
				out[string(k)] = list
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: recent statuses: %w", err)
	}
	return out, damage.Err()
}

// RecentResults returns up to n newest results of key, newest first.
func (s *Store) RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []checks.Result
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHistory).Get([]byte(key))
		if v == nil || n <= 0 {
			return nil
		}
		h := readHistory(v)
		for rec, ok := h.next(true); ok && len(out) < n; rec, ok = h.next(true) {
			out = append(out, rec.r)
		}
		if h.err != nil {
			return fmt.Errorf("decode %s: %w", key, h.err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: recent results %s: %w", key, err)
	}
	return out, nil
}

// LatestResults returns the newest result of every check, ordered by key.
func (s *Store) LatestResults(ctx context.Context) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []checks.Result
	var damage store.Damage
	err := s.db.View(func(tx *bolt.Tx) error {
		// Bucket keys are sorted bytes, which is Go string order.
		return tx.Bucket(bucketHistory).ForEach(func(k, v []byte) error {
			h := readHistory(v)
			if rec, ok := h.next(true); ok {
				out = append(out, rec.r)
			} else {
				damage.Add(string(k), h.err)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: latest results: %w", err)
	}
	return out, damage.Err()
}

// DeleteResults forgets every result of keys, in one transaction.
func (s *Store) DeleteResults(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range keys {
			if err := tx.Bucket(bucketHistory).Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete results: %w", err)
	}
	return nil
}

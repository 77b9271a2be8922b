package rotation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// Every store satisfies rotation's port without an adapter.
var _ rotation.KV = store.KV(nil)

// wrappingKV wraps every error the way a driver does
// ("redisstore: get "k": store: not found").
type wrappingKV struct{ store.KV }

func (w wrappingKV) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := w.KV.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("driver: get %q: %w", key, err)
	}
	return b, nil
}

// A wrapped store.ErrNotFound is a missing record, not a store failure: the
// first look records a baseline and the next key is a rotation.
func TestWrappedNotFoundIsAbsence(t *testing.T) {
	kv := wrappingKV{memstore.New()}
	clk := newClock(mustTime(t, "2026-03-01"))
	tr := rotation.New(kv, hmacKey, rotation.Options{Now: clk.Now})
	if ev := evaluate(t, tr, cred(config.Literal(keyA), autoRotation()), nil); ev.Rotated != nil {
		t.Fatalf("first key reported as a rotation: %+v", ev.Rotated)
	}
	clk.Add(time.Hour)
	if ev := evaluate(t, tr, cred(config.Literal(keyB), autoRotation()), nil); ev.Rotated == nil {
		t.Fatal("the second key was not reported as a rotation: the baseline was not recorded")
	}
	if removed, err := rotation.RemoveLegacyKey(context.Background(), kv); removed || err != nil {
		t.Fatalf("RemoveLegacyKey on a store without one = %v, %v; want false, nil", removed, err)
	}
}

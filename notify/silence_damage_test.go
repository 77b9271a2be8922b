package notify

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
)

// A stored silence that does not read was dropped without a word: the
// messages it was meant to hold went out and nobody was told why. Now
// Runtime names it in a *store.DamagedError (the page shows it, the CLI
// and the API log it), while the silences that read are listed and still
// hold their messages.
func TestDamagedSilenceIsReported(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credmon.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(t0)
	good, err := NewSilences(st, nil, clock.Now).Add(ctx, SilenceMatch{Env: "prod", Check: "api"}, time.Hour, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	const broken = SilencePrefix + "0badc0de"
	st = plantBoltKV(t, st, path, broken, []byte(`{"id":"0badc0de","env":"prod","end":"in an hour"}`))
	defer st.Close()

	sil := NewSilences(st, nil, clock.Now)
	list, err := sil.Runtime(ctx)
	var d *store.DamagedError
	if !errors.As(err, &d) || d.What != store.StoredSilences || !slices.Equal(d.Keys, []string{broken}) {
		t.Errorf("Runtime error = %v; want a *store.DamagedError naming only %s", err, broken)
	}
	if len(list) != 1 || list[0].ID != good.ID {
		t.Errorf("Runtime = %+v; want the silence that reads, %s", list, good.ID)
	}
	m := Message{Env: "prod", Check: "api"}
	if until := sil.Until(ctx, m, clock.Now()); !until.Equal(good.End) {
		t.Errorf("Until = %v; want %v: the silence that reads still holds its messages", until, good.End)
	}
}

// Package storetest is the contract every store driver is held to: one
// suite, benchmarks and a real-Redis connection helper for driver tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/store"
)

// Run runs the contract suite. open must return a new, empty store each time
// it is called; Run closes every store it opens.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	t.Run("RecentNewestFirst", func(t *testing.T) { testRecentNewestFirst(t, fresh(t)) })
	t.Run("RecentOrderedByStartedNotWrite", func(t *testing.T) { testOutOfOrder(t, fresh(t)) })
	t.Run("RecentLimit", func(t *testing.T) { testRecentLimit(t, fresh(t)) })
	t.Run("TrimToKeep", func(t *testing.T) { testTrim(t, fresh(t)) })
	t.Run("LatestOnePerCheck", func(t *testing.T) { testLatest(t, fresh(t)) })
	t.Run("Empty", func(t *testing.T) { testEmpty(t, fresh(t)) })
	t.Run("KeysDoNotOverlap", func(t *testing.T) { testKeysDoNotOverlap(t, fresh(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, fresh(t)) })
	t.Run("StoredCopyIsIsolated", func(t *testing.T) { testIsolation(t, fresh(t)) })
	t.Run("NoKey", func(t *testing.T) { testNoKey(t, fresh(t)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { testConcurrent(t, fresh(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, fresh(t)) })
	t.Run("PutResultsBatch", func(t *testing.T) { testPutResults(t, fresh(t)) })
	t.Run("DeleteResults", func(t *testing.T) { testDeleteResults(t, fresh(t)) })
	t.Run("RecentStatuses", func(t *testing.T) { testRecentStatuses(t, fresh(t)) })
}

// testRecentStatuses: each check's history is the statuses of its kept
// results, newest first by Started (a late write of an earlier run falls
// into place), trimmed with them, batched or not, and gone with them.
func testRecentStatuses(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := func(check string, i int, st checks.Status) checks.Result {
		r := Result("prod", check, time.Duration(i)*time.Minute)
		r.Status = st
		return r
	}
	var rs []checks.Result
	var want []checks.Status
	for i := range store.Keep + 3 {
		st := checks.StatusOK
		if i%3 == 1 {
			st = checks.StatusFail
		} else if i%3 == 2 {
			st = checks.StatusWarn
		}
		rs = append(rs, at("api", i, st))
		if i >= 3 {
			want = append([]checks.Status{st}, want...)
		}
	}
	// The newest written last but one: out of order.
	rs[len(rs)-1], rs[len(rs)-2] = rs[len(rs)-2], rs[len(rs)-1]
	put(t, s, rs[:5]...)
	if err := store.PutResults(ctx, s, rs[5:]); err != nil {
		t.Fatal(err)
	}
	put(t, s, at("other", 0, checks.StatusError))
	got, err := s.RecentStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["prod/api"], want) {
		t.Errorf("prod/api statuses:\n got %v\nwant %v", got["prod/api"], want)
	}
	if !reflect.DeepEqual(got["prod/other"], []checks.Status{checks.StatusError}) {
		t.Errorf("prod/other statuses = %v, want [error]", got["prod/other"])
	}
	if err := s.DeleteResults(ctx, "prod/api"); err != nil {
		t.Fatal(err)
	}
	got, err = s.RecentStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["prod/api"]; ok || len(got) != 1 {
		t.Errorf("statuses after delete = %v, want only prod/other", got)
	}
}

// base is an arbitrary fixed instant with nanoseconds, so a driver that
// truncates time shows up.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// Result returns a minimal result of env/check started at base+offset,
// with a Detail naming both so results can be told apart.
func Result(env, check string, offset time.Duration) checks.Result {
	return checks.Result{
		Env:     env,
		Check:   check,
		Started: base.Add(offset),
		Tick:    base.Add(offset).Truncate(time.Minute),
		Status:  checks.StatusOK,
		Cause:   checks.CauseOK,
		Detail:  fmt.Sprintf("%s/%s at +%s", env, check, offset),
	}
}

func put(t *testing.T, s store.Store, rs ...checks.Result) {
	t.Helper()
	for _, r := range rs {
		if err := s.PutResult(context.Background(), r); err != nil {
			t.Fatalf("PutResult(%s): %v", r.Detail, err)
		}
	}
}

func recent(t *testing.T, s store.Store, key string, n int) []checks.Result {
	t.Helper()
	got, err := s.RecentResults(context.Background(), key, n)
	if err != nil {
		t.Fatalf("RecentResults(%q, %d): %v", key, n, err)
	}
	return got
}

func latest(t *testing.T, s store.Store) []checks.Result {
	t.Helper()
	got, err := s.LatestResults(context.Background())
	if err != nil {
		t.Fatalf("LatestResults: %v", err)
	}
	return got
}

func details(rs []checks.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Detail
	}
	return out
}

func wantDetails(t *testing.T, what string, got []checks.Result, want ...checks.Result) {
	t.Helper()
	if g, w := details(got), details(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %q\nwant %q", what, g, w)
	}
}

func testRecentNewestFirst(t *testing.T, s store.Store) {
	a, b, c := Result("prod", "api", 0), Result("prod", "api", time.Minute), Result("prod", "api", 2*time.Minute)
	put(t, s, a, b, c)
	wantDetails(t, "RecentResults", recent(t, s, "prod/api", 10), c, b, a)
}

func testOutOfOrder(t *testing.T, s store.Store) {
	// A late write of an earlier run (slow probe, another replica) must not
	// become the newest.
	a, b, c := Result("prod", "api", 0), Result("prod", "api", time.Minute), Result("prod", "api", 2*time.Minute)
	put(t, s, c, a, b)
	wantDetails(t, "RecentResults", recent(t, s, "prod/api", 10), c, b, a)
	wantDetails(t, "LatestResults", latest(t, s), c)
}

func testRecentLimit(t *testing.T, s store.Store) {
	var rs []checks.Result
	for i := range 5 {
		rs = append(rs, Result("prod", "api", time.Duration(i)*time.Minute))
	}
	put(t, s, rs...)
	wantDetails(t, "n=2", recent(t, s, "prod/api", 2), rs[4], rs[3])
	wantDetails(t, "n=1", recent(t, s, "prod/api", 1), rs[4])
	if got := recent(t, s, "prod/api", 0); len(got) != 0 {
		t.Errorf("n=0 returned %d results", len(got))
	}
	if got := recent(t, s, "prod/api", -1); len(got) != 0 {
		t.Errorf("n=-1 returned %d results", len(got))
	}
	if got := recent(t, s, "prod/api", 1000); len(got) != 5 {
		t.Errorf("n=1000 returned %d results, want all 5", len(got))
	}
}

func testTrim(t *testing.T, s store.Store) {
	const extra = 5
	var rs []checks.Result
	for i := range store.Keep + extra {
		rs = append(rs, Result("prod", "api", time.Duration(i)*time.Second))
	}
	put(t, s, rs...)
	got := recent(t, s, "prod/api", store.Keep+extra)
	if len(got) != store.Keep {
		t.Fatalf("kept %d results, want store.Keep=%d", len(got), store.Keep)
	}
	if got[0].Detail != rs[len(rs)-1].Detail {
		t.Errorf("newest kept is %q, want %q", got[0].Detail, rs[len(rs)-1].Detail)
	}
	if oldest, want := got[len(got)-1].Detail, rs[extra].Detail; oldest != want {
		t.Errorf("oldest kept is %q, want %q (the %d oldest trimmed)", oldest, want, extra)
	}
	// A result older than everything kept is trimmed at once, not kept in
	// place of a newer one.
	put(t, s, Result("prod", "api", -time.Hour))
	got = recent(t, s, "prod/api", store.Keep+extra)
	if len(got) != store.Keep || got[len(got)-1].Detail != rs[extra].Detail {
		t.Errorf("after an old put: %d kept, oldest %q; want %d, oldest %q",
			len(got), got[len(got)-1].Detail, store.Keep, rs[extra].Detail)
	}
}

func testLatest(t *testing.T, s store.Store) {
	a1, a2 := Result("prod", "api", 0), Result("prod", "api", time.Minute)
	b1, b2 := Result("dev", "api", 0), Result("dev", "api", time.Minute)
	c1 := Result("prod", "billing", 30*time.Second)
	put(t, s, a1, b2, c1, a2, b1)
	// Ordered by key: dev/api, prod/api, prod/billing.
	wantDetails(t, "LatestResults", latest(t, s), b2, a2, c1)
}

func testEmpty(t *testing.T, s store.Store) {
	if got := latest(t, s); len(got) != 0 {
		t.Errorf("empty store: LatestResults returned %d results", len(got))
	}
	if got := recent(t, s, "prod/api", 10); len(got) != 0 {
		t.Errorf("empty store: RecentResults returned %d results", len(got))
	}
	put(t, s, Result("prod", "api", 0))
	if got := recent(t, s, "prod/other", 10); len(got) != 0 {
		t.Errorf("unknown key: RecentResults returned %d results", len(got))
	}
}

func testKeysDoNotOverlap(t *testing.T, s store.Store) {
	// Keys that prefix each other, or that would collide if a driver split
	// on "/" or joined with ":", stay apart.
	a := Result("prod", "api", 0)
	b := Result("prod", "api-v2", time.Second)
	c := Result("prod", "api:1", 2*time.Second)
	d := Result("prod/api", "x", 3*time.Second)
	put(t, s, a, b, c, d)
	for _, r := range []checks.Result{a, b, c, d} {
		wantDetails(t, "RecentResults("+r.Key()+")", recent(t, s, r.Key(), 10), r)
	}
	if got := latest(t, s); len(got) != 4 {
		t.Errorf("LatestResults returned %d results, want 4: %q", len(got), details(got))
	}
}

// Full returns a result with every field set, including nested pointers,
// maps and non-UTC-looking values, for round-trip checks.
func Full() checks.Result {
	exp := base.Add(3 * time.Hour)
	iat := base.Add(-time.Hour + 17*time.Nanosecond)
	nbf := base.Add(-time.Hour)
	return checks.Result{
		Env:        "prod",
		Check:      "payments-account",
		Credential: "payments-key",
		Identity:   "api_key Authorization: Bearer sk_live_…a1b2",
		Tick:       base.Truncate(time.Minute),
		Started:    base,
		Status:     checks.StatusFail,
		Cause:      checks.CauseInvalidToken,
		HTTPStatus: 401,
		Latency:    123456789 * time.Nanosecond,
		Detail:     `the server said "invalid_token": token is revoked`,
		Hint:       "rotate the key and update PROD_PAYMENTS_KEY",
		Band:       checks.Band{Value: "fp:1a2b3c4d", Label: "7d"},
		RunBy:      "credmon-test-replica-1",
		Findings: []checks.Finding{
			{Cause: checks.CauseMissingChallenge, Status: checks.StatusWarn, Detail: "401 without WWW-Authenticate", Hint: "tell the API owners"},
			{Cause: checks.CauseServerClockSkew, Detail: "server clock is 3.2s ahead"},
		},
		Challenge: &challenge.Challenge{
			Scheme:           "Bearer",
			Realm:            "payments",
			Error:            "invalid_token",
			ErrorDescription: "The access token expired",
			Scope:            "billing.read billing.write",
			Token68:          "dG9rZW42OA==",
			Params:           map[string]string{"realm": "payments", "error": "invalid_token", "x-extra": "ünïcode"},
		},
		Token: &checks.TokenInfo{
			Issuer:    "https://auth.example.com/",
			Audience:  []string{"https://api.example.com", "billing"},
			Subject:   "credmon-prod",
			Scope:     "billing.read",
			ExpiresAt: &exp,
			IssuedAt:  &iat,
			NotBefore: &nbf,
		},
		ServerTimeOffset: -3200 * time.Millisecond,
	}
}

// FullCredential is Full as a credential's concern: the fields that name
// a credential subject, which a check result leaves empty.
func FullCredential() checks.Result {
	r := Full()
	r.Kind, r.Check, r.Concern = checks.SubjectCredential, "", checks.ConcernRotation
	return r
}

func testRoundTrip(t *testing.T, s store.Store) {
	// A field added to checks.Result but set by neither Full nor
	// FullCredential would go untested.
	union := Full()
	union.Kind, union.Concern = FullCredential().Kind, FullCredential().Concern
	requireAllSet(t, reflect.ValueOf(union), "Result")
	check, cred := Full(), FullCredential()
	if check.Key() == cred.Key() {
		t.Fatalf("a check and a credential concern share the key %q", check.Key())
	}
	put(t, s, check)
	put(t, s, cred)
	for _, want := range []checks.Result{check, cred} {
		got := recent(t, s, want.Key(), 1)
		if len(got) != 1 {
			t.Fatalf("RecentResults(%s) returned %d results, want 1", want.Key(), len(got))
		}
		if !reflect.DeepEqual(got[0], want) {
			t.Errorf("RecentResults round trip differs:\n got %#v\nwant %#v", got[0], want)
		}
	}
	all := latest(t, s)
	// Ordered by key: "prod/credential:…" before "prod/payments-account".
	if len(all) != 2 || !reflect.DeepEqual(all[0], cred) || !reflect.DeepEqual(all[1], check) {
		t.Errorf("LatestResults round trip differs:\n got %#v\nwant %#v", all, []checks.Result{cred, check})
	}
}

func testIsolation(t *testing.T, s store.Store) {
	r := Full()
	put(t, s, r)
	// Change what the caller still holds, then what it got back.
	r.Findings[0].Detail = "changed"
	r.Challenge.Params["realm"] = "changed"
	r.Token.Audience[0] = "changed"
	got := recent(t, s, r.Key(), 1)
	got[0].Findings[0].Detail = "changed again"
	got[0].Challenge.Params["error"] = "changed again"
	if again := recent(t, s, r.Key(), 1); !reflect.DeepEqual(again[0], Full()) {
		t.Errorf("stored result changed through a caller's copy:\n got %#v\nwant %#v", again[0], Full())
	}
}

func testNoKey(t *testing.T, s store.Store) {
	for _, r := range []checks.Result{Result("", "api", 0), Result("prod", "", 0)} {
		if err := s.PutResult(context.Background(), r); !errors.Is(err, store.ErrNoKey) {
			t.Errorf("PutResult(env=%q check=%q) = %v, want store.ErrNoKey", r.Env, r.Check, err)
		}
	}
	if got := latest(t, s); len(got) != 0 {
		t.Errorf("a rejected result was stored: %q", details(got))
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const each = 10
	const writers = 2 * store.Keep / each // writers*each/2 per check stays within Keep
	checkNames := []string{"api", "billing"}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each+writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := Result("prod", checkNames[i%2], time.Duration(w*each+i)*time.Millisecond)
				if err := s.PutResult(ctx, r); err != nil {
					errs <- err
				}
			}
			// Readers run alongside writers so the race detector sees both.
			if _, err := s.LatestResults(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	for _, name := range checkNames {
		got := recent(t, s, "prod/"+name, store.Keep)
		if want := writers * each / 2; len(got) != want {
			t.Errorf("prod/%s: %d results recorded, want %d", name, len(got), want)
		}
		seen := map[string]bool{}
		for i, r := range got {
			if seen[r.Detail] {
				t.Errorf("prod/%s: %q recorded twice", name, r.Detail)
			}
			seen[r.Detail] = true
			if i > 0 && r.Started.After(got[i-1].Started) {
				t.Errorf("prod/%s: result %d is newer than result %d", name, i, i-1)
			}
		}
	}
}

func testCancelled(t *testing.T, s store.Store) {
	put(t, s, Result("prod", "api", 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutResult(ctx, Result("prod", "api", time.Minute)); !errors.Is(err, context.Canceled) {
		t.Errorf("PutResult with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.RecentResults(ctx, "prod/api", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("RecentResults with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.LatestResults(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("LatestResults with cancelled ctx = %v, want context.Canceled", err)
	}
	// The refused put must not have landed.
	wantDetails(t, "after cancelled put", recent(t, s, "prod/api", 10), Result("prod", "api", 0))
}

var timeType = reflect.TypeFor[time.Time]()

// requireAllSet fails for every zero field in v, looking into nested
// structs, pointers and the first element of slices.
func requireAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.IsZero() {
		t.Errorf("storetest.Full leaves %s unset: set it so the round trip covers it", path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		requireAllSet(t, v.Elem(), path)
	case reflect.Slice:
		requireAllSet(t, v.Index(0), path+"[0]")
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				requireAllSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	}
}

// testPutResults writes a batch across checks in one call (or one by one
// for stores without batching) and reads it back.
func testPutResults(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch []checks.Result
	for i := range 3 {
		for _, check := range []string{"alpha", "beta"} {
			batch = append(batch, Result("prod", check, time.Duration(i)*time.Second))
		}
	}
	if err := store.PutResults(ctx, s, batch); err != nil {
		t.Fatalf("PutResults: %v", err)
	}
	latest, err := s.LatestResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 {
		t.Fatalf("LatestResults after a batch: %d results, want 2", len(latest))
	}
	for _, r := range latest {
		if want := batch[len(batch)-1].Started; !r.Started.Equal(want) {
			t.Errorf("%s: latest started %v, want %v", r.Key(), r.Started, want)
		}
	}
	recent, err := s.RecentResults(ctx, "prod/alpha", 10)
	if err != nil || len(recent) != 3 {
		t.Fatalf("RecentResults after a batch: %d, %v; want 3", len(recent), err)
	}
	if err := store.PutResults(ctx, s, []checks.Result{{Env: "prod"}}); !errors.Is(err, store.ErrNoKey) {
		t.Errorf("a batch with a keyless result: %v, want ErrNoKey", err)
	}
}

// testDeleteResults forgets a check and a credential concern, keeps the
// rest, and takes unknown keys quietly.
func testDeleteResults(t *testing.T, s store.Store) {
	ctx := context.Background()
	gone, kept, cred := Result("prod", "gone", 0), Result("prod", "kept", 0), FullCredential()
	put(t, s, gone, Result("prod", "gone", time.Second), kept, cred)
	if err := s.DeleteResults(ctx, gone.Key(), cred.Key(), "prod/never-stored"); err != nil {
		t.Fatalf("DeleteResults: %v", err)
	}
	if got := recent(t, s, gone.Key(), 10); len(got) != 0 {
		t.Errorf("RecentResults(%s) after delete = %d results, want none", gone.Key(), len(got))
	}
	all := latest(t, s)
	if len(all) != 1 || all[0].Key() != kept.Key() {
		t.Errorf("LatestResults after delete = %q, want only %s", details(all), kept.Key())
	}
	// A deleted check that runs again is stored afresh.
	put(t, s, gone)
	if got := recent(t, s, gone.Key(), 10); len(got) != 1 {
		t.Errorf("RecentResults(%s) after a new put = %d results, want 1", gone.Key(), len(got))
	}
	if err := s.DeleteResults(ctx); err != nil {
		t.Errorf("DeleteResults() with no keys = %v", err)
	}
}

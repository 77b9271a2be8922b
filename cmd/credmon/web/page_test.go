package web

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
)

func renderPage(t *testing.T, s *Snapshot) string {
	t.Helper()
	var buf bytes.Buffer
	if err := newPage().render(&buf, s, nil); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPageShowsChecksCausesAndFixes(t *testing.T) {
	snap := fixtureSnapshot()
	srv := serve(t, fakeSource{snap: snap}, nil)
	resp, html := do(t, http.MethodGet, srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, c := range snap.Checks {
		if !strings.Contains(html, ">"+c.Name+"<") {
			t.Errorf("page lacks check %s/%s", c.Env, c.Name)
		}
		if c.Last == nil {
			continue
		}
		if c.Last.Cause != checks.CauseOK && !strings.Contains(html, ">"+string(c.Last.Cause)+"<") {
			t.Errorf("page lacks cause %s of %s/%s", c.Last.Cause, c.Env, c.Name)
		}
		if c.Last.Status != checks.StatusOK && c.Last.Hint != "" && !strings.Contains(html, escapeHTML(c.Last.Hint)) {
			t.Errorf("page lacks the fix of %s/%s", c.Env, c.Name)
		}
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="30">`,
		"This replica is not ready.", "redis unreachable",
		"HTTP 401", "182 ms", "ran 3m ago", "next in 42s", "next due now", "not run yet",
		`<b>3</b> fail`, `<b>2</b> ok`, `<b>2</b> warn`, `<b>1</b> error`, `<b>1</b> pending`,
		"−3 ms",                                  // clock offset
		"✕ 2d 2h ago", "▲ in 6d 4h", "in 83d 5h", // deadlines: passed, due, far
		"this replica", "credmon-7d9f-b",
		"not configured",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Failing rows come first.
	if strings.Index(html, ">legacy-webhook<") < strings.Index(html, ">payments-account<") {
		t.Error("a pending row sorts above a failing one")
	}
}

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestPageEscapesHostileText(t *testing.T) {
	snap := fixtureSnapshot()
	last := snap.Checks[3].Last
	last.Detail = `The API said: <script>alert("x")</script>`
	last.Hint = `<img src=x onerror=alert(1)>`
	last.Challenge.Realm = `"><script>alert(2)</script>`
	snap.Checks[3].Name = "<b>bold</b>"
	// The sparkline is built as HTML in Go: a status from a shared store
	// that is not one of ours must come out as text too.
	snap.Checks[3].Recent = append(snap.Checks[3].Recent, checks.Status(`"><svg onload=alert(3)>`))
	html := renderPage(t, snap)
	for _, bad := range []string{"<script>", "<img", "<b>bold", "<svg"} {
		if strings.Contains(html, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("escaped detail not shown")
	}
	if !strings.Contains(html, `title="&#34;&gt;&lt;svg onload=alert(3)&gt;"`) {
		t.Error("the unknown status is not in the sparkline, escaped")
	}
}

// A secret never reaches a Snapshot, but the page must show the redacted
// identity as given and nothing that looks like a whole key.
func TestPageShowsOnlyRedactedIdentity(t *testing.T) {
	snap := fixtureSnapshot()
	const identity = "api_key Authorization: Bearer sk_live_…a1b2"
	snap.Checks[3].Identity = identity
	snap.Checks[3].Last.Identity = identity
	for _, body := range []string{renderPage(t, snap), func() string {
		_, b := do(t, http.MethodGet, serve(t, fakeSource{snap: snap}, nil).URL+"/api/v1/status")
		return b
	}()} {
		if !strings.Contains(body, "sk_live_…a1b2") {
			t.Error("redacted identity missing")
		}
		if m := regexp.MustCompile(`sk_(live|test)_[A-Za-z0-9]{5,}`).FindString(body); m != "" {
			t.Errorf("output contains something like a full key: %q", m)
		}
	}
}

func TestPageEmptyAndReady(t *testing.T) {
	html := renderPage(t, &Snapshot{Generated: fixtureNow, Instance: "solo", Ready: true})
	for _, want := range []string{"No checks configured.", "No open incidents.", "No rotation deadlines", ">ready<", "unknown"} {
		if !strings.Contains(html, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
	if strings.Contains(html, "not ready") {
		t.Error("ready page shows a not-ready banner")
	}
}

func TestDeadlineClasses(t *testing.T) {
	now := fixtureNow
	v := newPageView(&Snapshot{Generated: now, Deadlines: []Deadline{
		{Kind: DeadlineRotation, At: now.Add(-time.Hour)},
		{Kind: DeadlineRotation, At: now.Add(13 * 24 * time.Hour)},
		{Kind: DeadlineExpiry, At: now.Add(15 * 24 * time.Hour)},
		{Kind: DeadlineToken, At: now.Add(time.Minute)},
		{Kind: DeadlineToken, At: now.Add(-time.Minute)},
	}}, parseFilter(nil))
	want := []string{"passed", "due", "", "", "passed"}
	for i, d := range v.Deadlines {
		if d.Class != want[i] {
			t.Errorf("deadline %d (%s in %v): class %q, want %q", i, d.Kind, d.At.Sub(now), d.Class, want[i])
		}
	}
}

func TestRelative(t *testing.T) {
	now := fixtureNow
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{42 * time.Second, "in 42s"},
		{-3 * time.Minute, "3m ago"},
		{6*24*time.Hour + 4*time.Hour + 59*time.Minute, "in 6d 4h"},
		{-(2*time.Hour + 5*time.Minute), "2h 5m ago"},
		{3 * time.Hour, "in 3h"},
		{48 * time.Hour, "in 2d"},
		{0, "now"},
		{-500 * time.Millisecond, "just now"},
	} {
		if got := relative(now, now.Add(tc.d)); got != tc.want {
			t.Errorf("relative(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

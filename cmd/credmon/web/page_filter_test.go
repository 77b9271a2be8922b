package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
)

// renderQuery renders s as GET /?query would.
func renderQuery(t *testing.T, s *Snapshot, query string) string {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := newPage().render(&buf, s, q); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var rowName = regexp.MustCompile(`<th scope="row">([^<]*)</th>`)

// matrixRows are the check names the matrix lists, in page order.
func matrixRows(t *testing.T, html string) []string {
	t.Helper()
	start := strings.Index(html, `<table class="matrix">`)
	if start < 0 {
		return nil
	}
	end := strings.Index(html[start:], "</table>")
	var names []string
	for _, m := range rowName.FindAllStringSubmatch(html[start:start+end], -1) {
		names = append(names, m[1])
	}
	return names
}

// matrixColumns are the environments the matrix has columns for.
func matrixColumns(html string) []string {
	start := strings.Index(html, `<table class="matrix">`)
	if start < 0 {
		return nil
	}
	head := html[start : start+strings.Index(html[start:], "</thead>")]
	var cols []string
	for _, m := range regexp.MustCompile(`<th scope="col">([^<]*)</th>`).FindAllStringSubmatch(head, -1) {
		cols = append(cols, m[1])
	}
	return cols[1:] // the first is "Check"
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestPageFiltersByQuery(t *testing.T) {
	snap := fixtureSnapshot()
	for _, tc := range []struct {
		query string
		rows  []string // sorted
		cols  []string
	}{
		{"", []string{"billing-me", "github-app", "legacy-webhook", "mail-send", "payments-account", "search-query"}, []string{"prod", "staging"}},
		{"env=prod", []string{"billing-me", "github-app", "mail-send", "payments-account", "search-query"}, []string{"prod"}},
		{"env=staging", []string{"billing-me", "legacy-webhook", "payments-account", "search-query"}, []string{"staging"}},
		{"status=fail", []string{"billing-me", "mail-send", "payments-account"}, []string{"prod", "staging"}},
		{"env=staging&status=fail", []string{"billing-me"}, []string{"staging"}},
		{"status=fail,error", []string{"billing-me", "mail-send", "payments-account", "search-query"}, []string{"prod", "staging"}},
		{"status=fail&status=ERROR", []string{"billing-me", "mail-send", "payments-account", "search-query"}, []string{"prod", "staging"}},
		{"status=pending", []string{"legacy-webhook"}, []string{"prod", "staging"}},
		{"status=ok", []string{"github-app", "payments-account"}, []string{"prod", "staging"}},
		{"cause=invalid_token", []string{"payments-account"}, []string{"prod", "staging"}},
		// A finding is a cause too: the check with a skewed clock.
		{"cause=server_clock_skew", []string{"search-query"}, []string{"prod", "staging"}},
		{"env=prod&cause=server_clock_skew", nil, []string{"prod"}},
		{"check=PAY", []string{"payments-account"}, []string{"prod", "staging"}},
		{"check=github-token", []string{"github-app"}, []string{"prod", "staging"}}, // the credential's name
		{"env=nowhere", nil, nil},
		{"status=bogus", nil, []string{"prod", "staging"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			html := renderQuery(t, snap, tc.query)
			if got := sorted(matrixRows(t, html)); !slices.Equal(got, tc.rows) {
				t.Errorf("rows %v, want %v", got, tc.rows)
			}
			if got := matrixColumns(html); len(tc.rows) > 0 && !slices.Equal(got, tc.cols) {
				t.Errorf("columns %v, want %v", got, tc.cols)
			}
			if len(tc.rows) == 0 && !strings.Contains(html, "No check matches this filter.") {
				t.Error("an empty selection does not say so")
			}
			if len(tc.rows) > 0 && strings.Contains(html, "No check matches") {
				t.Error("a selection with rows says nothing matches")
			}
			if tc.query != "" && !strings.Contains(html, "clear filters") {
				t.Error("a filtered page has no way back")
			}
		})
	}
}

// A row the filter selects shows its other checks only as a status, for
// context: the full cells are exactly the selected checks.
func TestPageFilterShowsOnlySelectedCellsInFull(t *testing.T) {
	html := renderQuery(t, fixtureSnapshot(), "status=fail")
	full := regexp.MustCompile(`<div class="cell s-(\w+)">`).FindAllStringSubmatch(html, -1)
	if len(full) != 3 {
		t.Fatalf("%d full cells, want the 3 failing checks", len(full))
	}
	for _, m := range full {
		if m[1] != "fail" {
			t.Errorf("a %s check shown in full under status=fail", m[1])
		}
	}
	// billing-me's prod (warn) and payments-account's staging (ok) ride along.
	for _, want := range []string{`class="cell mini s-warn"`, `class="cell mini s-ok"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(html, "Check NTP on search.staging.internal.") {
		t.Error("an unselected check's detail is shown")
	}
}

// Through the handler: the query string of GET / is what filters.
func TestPageFilterFromRequest(t *testing.T) {
	srv := serve(t, fakeSource{snap: fixtureSnapshot()}, nil)
	_, html := do(t, http.MethodGet, srv.URL+"/?env=staging&status=fail&cause=wrong_environment")
	if got := matrixRows(t, html); !slices.Equal(got, []string{"billing-me"}) {
		t.Errorf("rows %v, want [billing-me]", got)
	}
	for _, want := range []string{`<option selected>staging</option>`, `<option selected>fail</option>`, `<option selected>wrong_environment</option>`, "1 of 9 selected"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestPageFilterValuesAreEscaped(t *testing.T) {
	html := renderQuery(t, fixtureSnapshot(), url.Values{
		"check": {`"><script>alert(1)</script>`},
		"env":   {`<img src=x onerror=alert(2)>`},
		"cause": {`</option><script>alert(3)</script>`},
	}.Encode())
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(html, bad) {
			t.Errorf("page contains unescaped %q from the query", bad)
		}
	}
	if !strings.Contains(html, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Error("the asked-for environment is not echoed (escaped) in the form")
	}
}

func TestParseFilter(t *testing.T) {
	q, _ := url.ParseQuery("env=prod,staging&env=prod&status=FAIL&cause=&check=+pay+&limit=50")
	f := parseFilter(q)
	if !slices.Equal(f.Envs, []string{"prod", "staging"}) || !slices.Equal(f.Statuses, []string{"fail"}) || f.Causes != nil || f.Check != "pay" || f.Limit != 50 {
		t.Errorf("parseFilter = %+v", f)
	}
	for limit, want := range map[string]int{"": pageLimit, "all": 0, "0": 0, "-3": pageLimit, "x": pageLimit, "7": 7} {
		if got := parseFilter(url.Values{"limit": {limit}}).Limit; got != want {
			t.Errorf("limit=%q: %d, want %d", limit, got, want)
		}
	}
	if parseFilter(nil).Active() || !parseFilter(url.Values{"check": {"x"}}).Active() {
		t.Error("Active is wrong")
	}
	if got := f.query("limit", "all"); got != "?check=pay&env=prod%2Cstaging&limit=all&status=fail" {
		t.Errorf("query = %q", got)
	}
}

func TestPageSummaryCounts(t *testing.T) {
	// The summary is of the whole fleet whatever the filter.
	for _, query := range []string{"", "env=staging&status=ok"} {
		v := newPageView(fixtureSnapshot(), parseFilter(mustQuery(query)))
		want := []envSummary{
			{"prod", counts{OK: 1, Warn: 1, Fail: 2, Error: 1, Total: 5}},
			{"staging", counts{OK: 1, Warn: 1, Fail: 1, Pending: 1, Total: 4}},
		}
		if !slices.Equal(v.ByEnv, want) {
			t.Errorf("%q: by env %+v, want %+v", query, v.ByEnv, want)
		}
		if v.Counts != (counts{OK: 2, Warn: 2, Fail: 3, Error: 1, Pending: 1, Total: 9}) {
			t.Errorf("%q: counts %+v", query, v.Counts)
		}
		got := map[checks.Cause]string{}
		for _, c := range v.ByCause {
			got[c.Cause] = fmt.Sprintf("%s %d %v", c.Status, c.N, c.PerEnv)
		}
		wantCauses := map[checks.Cause]string{
			checks.CauseInvalidToken:          "fail 1 [{prod 1 }]",
			checks.CausePreviousKeyStillValid: "fail 1 [{prod 1 }]",
			checks.CauseWrongEnvironment:      "fail 1 [{staging 1 }]",
			checks.CauseUnreachable:           "error 1 [{prod 1 }]",
			checks.CauseTokenExpiring:         "warn 1 [{prod 1 }]",
			checks.CauseServerClockSkew:       "warn 1 [{staging 1 }]",
		}
		if len(got) != len(wantCauses) {
			t.Errorf("%q: causes %v", query, got)
		}
		for c, w := range wantCauses {
			if got[c] != w {
				t.Errorf("%q: cause %s: %q, want %q", query, c, got[c], w)
			}
		}
		if v.ByCause[0].Status != "fail" || v.ByCause[len(v.ByCause)-1].Status != "warn" {
			t.Errorf("%q: causes not worst first: %v", query, v.ByCause)
		}
	}
	html := renderPage(t, fixtureSnapshot())
	for _, want := range []string{
		`href="?env=prod&amp;status=fail">2</a>`, `href="?env=staging&amp;status=pending">1</a>`,
		`href="?cause=invalid_token"><code>invalid_token</code></a>`, `href="?env=staging&amp;cause=wrong_environment">staging 1</a>`,
		`href="?status=fail"><span aria-hidden="true">✕</span><b>3</b> fail`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The summary comes before the checks.
	if strings.Index(html, `aria-label="checks per cause"`) > strings.Index(html, `<table class="matrix">`) {
		t.Error("the summary is below the checks")
	}
}

func mustQuery(s string) url.Values {
	q, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return q
}

// statusOf is each fleet check's status by name (fleet names are unique).
func statusOf(s *Snapshot) map[string]string {
	m := map[string]string{}
	for i := range s.Checks {
		m[s.Checks[i].Name] = checkClass(&s.Checks[i])
	}
	return m
}

func TestPageSummaryCountsAtScale(t *testing.T) {
	s := fleet(2000)
	// Counted here by hand, not with the page's own counts.add.
	tally := func(c *counts, st string) {
		c.Total++
		switch st {
		case "ok":
			c.OK++
		case "warn":
			c.Warn++
		case "fail":
			c.Fail++
		case "error":
			c.Error++
		case "pending":
			c.Pending++
		default:
			t.Fatalf("fleet has status %q", st)
		}
	}
	var want counts
	per := map[string]*counts{}
	for _, c := range s.Checks {
		st := "pending"
		if c.Last != nil {
			st = string(c.Last.Status)
		}
		tally(&want, st)
		if per[c.Env] == nil {
			per[c.Env] = &counts{}
		}
		tally(per[c.Env], st)
	}
	v := newPageView(s, parseFilter(nil))
	if v.Counts != want {
		t.Errorf("counts %+v, want %+v", v.Counts, want)
	}
	for _, e := range v.ByEnv {
		if e.counts != *per[e.Env] {
			t.Errorf("%s: %+v, want %+v", e.Env, e.counts, *per[e.Env])
		}
	}
	if html := renderPage(t, s); !strings.Contains(html, fmt.Sprintf("<b>%s</b> fail", thousands(want.Fail))) || !strings.Contains(html, "2,000 checks") {
		t.Error("header counts at scale missing")
	}
}

func TestPageListsFailuresFirst(t *testing.T) {
	s := fleet(2000)
	status := statusOf(s)
	// The order the page promises, written out rather than read from listOrder.
	order := map[string]int{"fail": 4, "error": 3, "warn": 2, "pending": 1, "ok": 0}
	for _, query := range []string{"", "limit=all", "status=ok,fail,pending&limit=all", "env=staging&limit=all"} {
		rows := matrixRows(t, renderQuery(t, s, query))
		if len(rows) == 0 {
			t.Fatalf("%q: no rows", query)
		}
		if status[rows[0]] != "fail" {
			t.Errorf("%q: first row %s is %s", query, rows[0], status[rows[0]])
		}
		for i := 1; i < len(rows); i++ {
			if order[status[rows[i-1]]] < order[status[rows[i]]] {
				t.Fatalf("%q: %s (%s) above %s (%s)", query, rows[i-1], status[rows[i-1]], rows[i], status[rows[i]])
			}
		}
	}
	// Where ok and failing rows are both listed, every failure is above
	// every ok row.
	rows := matrixRows(t, renderQuery(t, s, "status=ok,fail&limit=all"))
	lastFail, firstOK := -1, len(rows)
	for i, r := range rows {
		switch status[r] {
		case "fail":
			lastFail = i
		case "ok":
			firstOK = min(firstOK, i)
		}
	}
	if lastFail < 0 || firstOK == len(rows) || lastFail > firstOK {
		t.Errorf("last failure at %d, first ok at %d of %d", lastFail, firstOK, len(rows))
	}
}

func TestPageFoldsOKChecksAtScale(t *testing.T) {
	s := fleet(2000)
	status := statusOf(s)
	okIn := map[string][]string{}
	notOK := 0
	for _, c := range s.Checks {
		if status[c.Name] == "ok" {
			okIn[c.Env] = append(okIn[c.Env], c.Name)
		} else {
			notOK++
		}
	}
	if len(okIn["prod"]) <= okInline || notOK <= pageLimit {
		t.Fatalf("fleet too small to fold: %d ok in prod, %d not ok", len(okIn["prod"]), notOK)
	}

	// Unfiltered: no ok row, the ok checks counted per environment with
	// a link, the rest bounded with a link to all.
	html := renderQuery(t, s, "")
	rows := matrixRows(t, html)
	if len(rows) != pageLimit {
		t.Errorf("%d rows, want the first %d", len(rows), pageLimit)
	}
	for _, r := range rows {
		if status[r] == "ok" {
			t.Fatalf("ok row %s listed at scale", r)
		}
	}
	nok := len(okIn["prod"]) + len(okIn["staging"])
	for _, want := range []string{
		fmt.Sprintf("<b>%s</b> ok checks are not listed", thousands(nok)),
		fmt.Sprintf(`<a href="?env=prod&amp;status=ok">prod: %d</a>`, len(okIn["prod"])),
		fmt.Sprintf(`<a href="?limit=all">show all %s</a>`, thousands(notOK)),
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// All of them when asked for: every not-ok row, and the ok ones of an
	// environment exactly.
	if rows := matrixRows(t, renderQuery(t, s, "limit=all")); len(rows) != notOK {
		t.Errorf("limit=all: %d rows, want %d", len(rows), notOK)
	}
	if got := sorted(matrixRows(t, renderQuery(t, s, "env=prod&status=ok&limit=all"))); !slices.Equal(got, sorted(okIn["prod"])) {
		t.Errorf("env=prod&status=ok: %d rows, want the %d ok prod checks", len(got), len(okIn["prod"]))
	}
	// A small fleet folds nothing: its ok row is listed.
	small := renderPage(t, fixtureSnapshot())
	if !slices.Contains(matrixRows(t, small), "github-app") || strings.Contains(small, "ok checks are not listed") || strings.Contains(small, "show all") {
		t.Error("the small fleet's page is folded or bounded")
	}
}

func TestPageBoundsDeadlinesAndIncidents(t *testing.T) {
	s := &Snapshot{Generated: fixtureNow, Ready: true}
	for i := range listLimit + 30 {
		s.Deadlines = append(s.Deadlines, Deadline{Env: "prod", Credential: fmt.Sprintf("key-%03d", i), Kind: DeadlineRotation, At: fixtureNow.Add(time.Duration(i) * time.Hour)})
		s.Incidents = append(s.Incidents, Incident{Env: "prod", Subject: fmt.Sprintf("check-%03d", i), Cause: checks.CauseInvalidToken, Status: checks.StatusFail, Since: fixtureNow})
	}
	s.Deadlines = append(s.Deadlines, Deadline{Env: "staging", Credential: "stg-key", Kind: DeadlineRotation, At: fixtureNow})
	html := renderPage(t, s)
	if !strings.Contains(html, ">key-099<") || strings.Contains(html, ">key-100<") || !strings.Contains(html, "and 31 later ones") || !strings.Contains(html, "and 30 more") {
		t.Error("deadlines or incidents not bounded to the first 100")
	}
	html = renderQuery(t, s, "env=staging")
	if !strings.Contains(html, ">stg-key<") || strings.Contains(html, ">key-000<") || strings.Contains(html, ">check-000<") {
		t.Error("env filter does not narrow deadlines and incidents")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// A finding without a status of its own weighs what its cause does, as in
// checks.Verdict: a previous key still accepted is a failure in the
// summary, not a warning.
func TestPageSummaryWeighsFindingsByTheirCause(t *testing.T) {
	s := fixtureSnapshot()
	s.Checks = s.Checks[:1]
	r := checks.Result{Env: s.Checks[0].Env, Check: s.Checks[0].Name, Status: checks.StatusFail, Cause: checks.CauseInvalidToken,
		Findings: []checks.Finding{{Cause: checks.CausePreviousKeyStillValid, Detail: "d"}}}
	s.Checks[0].Last = &r
	v := newPageView(s, parseFilter(nil))
	for _, c := range v.ByCause {
		if c.Cause == checks.CausePreviousKeyStillValid && c.Status != "fail" {
			t.Errorf("%s shown as %q in the summary, want fail (its cause's status)", c.Cause, c.Status)
		}
	}
	if !slices.ContainsFunc(v.ByCause, func(c causeSummary) bool { return c.Cause == checks.CausePreviousKeyStillValid }) {
		t.Errorf("the finding is not in the summary: %+v", v.ByCause)
	}
}

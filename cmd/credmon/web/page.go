package web

import (
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/checks/duration"
)

//go:embed page.html.tmpl
var pageTemplate string

// page renders the status page. html/template escapes every value, so a
// detail sentence quoting a hostile server's body stays text.
type page struct{ tmpl *template.Template }

func newPage() *page {
	return &page{tmpl: template.Must(template.New("page").Funcs(template.FuncMap{
		"statusClass": statusClass,
		"statusLabel": statusLabel,
		"statusIcon":  statusIcon,
		"utc":         func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"rfc3339":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"n":           thousands,
	}).Parse(pageTemplate))}
}

// render shows s narrowed by the query's filters (parseFilter).
func (p *page) render(w io.Writer, s *Snapshot, q url.Values) error {
	return p.tmpl.Execute(w, newPageView(s, parseFilter(q)))
}

// Bounds that keep the page readable and fast at any fleet size: 10,000
// checks rendered in full are 14 MB that nobody reads; the summary and the
// filters lead to the rest.
const (
	// pageLimit is how many rows the check matrix shows unless ?limit= says
	// otherwise.
	pageLimit = 200
	// okInline is how many all-ok rows the page lists when no status filter
	// asks for them; more are collapsed into counts per environment.
	okInline = 50
	// listLimit bounds the deadlines and incidents tables.
	listLimit = 100
)

// pageView is the Snapshot arranged for reading: the whole fleet's counts
// first, then a matrix of the checks the filter selects (rows) by
// environments (columns), worst rows first, and times already relative.
type pageView struct {
	S       *Snapshot
	Now     time.Time
	Filter  pageFilter
	AllEnvs []string // every environment, for the summary and the form
	Envs    []string // the columns: the environments the filter selects
	Rows    []pageRow
	Counts  counts // the whole fleet, whatever the filter
	Worst   string // class of the worst status, for the header accent
	ByEnv   []envSummary
	ByCause []causeSummary
	Options filterOptionSet
	// Matched is how many checks the filter selects, Listed how many rows
	// could be listed, of which Rows holds the first Filter.Limit.
	Matched, Listed int
	// OKCollapsed counts the all-ok rows left out of Rows (their checks
	// per column in OKByEnv); 0 when they are listed.
	OKCollapsed int
	OKChecks    int
	OKByEnv     []envCount
	LimitParam  string // ?limit= to keep in the form; "" for the default
	ShowAll     string // link that lifts the row limit; "" when not truncated

	Deadlines     []deadlineView
	MoreDeadlines int
	Incidents     []incidentView
	MoreIncidents int
	Instances     []instanceView
	Clock         string // formatted clock offset, "" when unknown
}

type counts struct{ OK, Warn, Fail, Error, Pending, Total int }

func (c *counts) add(status string) {
	c.Total++
	switch status {
	case "ok":
		c.OK++
	case "warn":
		c.Warn++
	case "fail":
		c.Fail++
	case "error":
		c.Error++
	default:
		c.Pending++
	}
}

type envSummary struct {
	Env string
	counts
}

type envCount struct {
	Env  string
	N    int
	Link string // set where the link keeps the other filters
}

type pageRow struct {
	Name  string
	Cells []*cellView // one per Envs entry; nil where the check is not configured
	order int
}

// cellView is one check as the matrix shows it, with everything that is
// the same for every reader formatted once here rather than by template
// calls per cell.
type cellView struct {
	Status string // ok|warn|fail|error|pending
	Label  string // OK, WARN, ...
	Icon   string
	Cause  string // "" when ok or not run
	// Mini is a check the filter did not select, in a row it did: shown
	// as its status only, for context.
	Mini    bool
	Spark   template.HTML // the recent runs' bars, oldest first
	OKRatio string
	Meta    template.HTML // HTTP status, latency, last and next run, token expiry
	Fix     bool          // the Fix details are shown
	Open    bool          // ... and open
	// What the template prints, taken out of the check and its last
	// result here: each field chain in a template is a reflective look-up
	// per cell.
	Credential, Identity string
	Detail               string // "" when ok
	Hint                 string
	Findings             []checks.Finding
	Challenge            *challenge.Challenge
}

type deadlineView struct {
	Deadline
	Left  string
	Class string // "", "due" (amber) or "passed" (red)
}

type incidentView struct {
	Incident
	For          string
	LastNotified string
}

type instanceView struct {
	Instance
	Self     bool
	Up       string
	LastSeen string
}

// deadlineWarn is when a rotation or expiry deadline turns amber; it matches
// the widest default alerting band (expiry_warn_before: 14d).
const deadlineWarn = 14 * 24 * time.Hour

// checkClass is a check's status for the page: its last result's, or
// pending.
func checkClass(c *CheckStatus) string {
	if c.Last == nil {
		return "pending"
	}
	return classOf(string(c.Last.Status))
}

// listOrder sorts the matrix: failures first, then errors, warnings (by
// checks.Status.Rank) and checks not run yet; ok last, where it is
// collapsed at scale.
func listOrder(status string) int {
	if status == "pending" {
		return 1
	}
	if r := checks.Status(status).Rank(); r > 0 {
		return r + 1
	}
	return 0
}

func newPageView(s *Snapshot, f pageFilter) *pageView {
	now := s.Generated
	if now.IsZero() {
		now = time.Now()
	}
	v := &pageView{S: s, Now: now, Filter: f}
	if s.ClockOffset != nil {
		v.Clock = signedDuration(*s.ClockOffset)
	}

	envIndex := map[string]int{}
	for i := range s.Checks {
		if env := s.Checks[i].Env; !hasKey(envIndex, env) {
			envIndex[env] = len(v.AllEnvs)
			v.AllEnvs = append(v.AllEnvs, env)
		}
	}
	column := make([]int, len(v.AllEnvs)) // by envIndex; -1: not shown
	for i, env := range v.AllEnvs {
		column[i] = -1
		if f.wantsEnv(env) {
			column[i] = len(v.Envs)
			v.Envs = append(v.Envs, env)
		}
	}
	v.ByEnv = make([]envSummary, len(v.AllEnvs))
	for i, env := range v.AllEnvs {
		v.ByEnv[i].Env = env
	}

	// One pass: the fleet's counts, and the selected checks grouped into
	// rows. A row's slots (one per column) are a window of one slice, so
	// 10,000 rows are not 10,000 allocations.
	type slot struct {
		check int // index into s.Checks, -1 where not configured
		match bool
	}
	var (
		ncols   = len(v.Envs)
		slots   = make([]slot, 0, len(s.Checks)*max(ncols, 1))
		rows    = make([]pageRow, 0, len(s.Checks))
		byName  = make(map[string]int, len(s.Checks))
		byCause = map[checks.Cause]*causeSummary{}
		worst   = -1 // the Rank of v.Worst
	)
	v.Worst = "pending"
	for i := range s.Checks {
		c := &s.Checks[i]
		status := checkClass(c)
		ei := envIndex[c.Env]
		v.Counts.add(status)
		v.ByEnv[ei].add(status)
		if r := checks.Status(status).Rank(); r > worst {
			worst, v.Worst = r, status
		}
		countCauses(c, status, ei, len(v.AllEnvs), byCause)

		col := column[ei]
		if col < 0 {
			continue
		}
		match := f.matches(c, status)
		ri, ok := byName[c.Name]
		if !ok {
			ri = len(rows)
			byName[c.Name] = ri
			rows = append(rows, pageRow{Name: c.Name, order: -1})
			for range ncols {
				slots = append(slots, slot{check: -1})
			}
		}
		slots[ri*ncols+col] = slot{check: i, match: match}
		if match {
			v.Matched++
			rows[ri].order = max(rows[ri].order, listOrder(status))
		}
	}
	v.ByCause = sortedCauses(byCause, v.AllEnvs)
	v.Options = filterOptions(f, v.AllEnvs, v.ByCause)

	// Rows without a selected check go; the rest (as indices into rows
	// and slots) sort worst first.
	kept := make([]int, 0, len(rows))
	for ri := range rows {
		if rows[ri].order >= 0 {
			kept = append(kept, ri)
		}
	}
	slices.SortFunc(kept, func(a, b int) int {
		if rows[a].order != rows[b].order {
			return rows[b].order - rows[a].order
		}
		return strings.Compare(rows[a].Name, rows[b].Name)
	})
	listed := kept
	if firstOK := slices.IndexFunc(kept, func(ri int) bool { return rows[ri].order == 0 }); firstOK >= 0 {
		okRows := kept[firstOK:]
		// Nobody reads thousands of green rows: unless a status filter
		// asks for them, they are counted per environment with a link.
		if len(f.Statuses) == 0 && len(okRows) > okInline {
			listed = kept[:firstOK]
			v.OKCollapsed = len(okRows)
			perCol := make([]int, ncols)
			for _, ri := range okRows {
				for col := range ncols {
					if sl := slots[ri*ncols+col]; sl.check >= 0 && sl.match {
						perCol[col]++
					}
				}
			}
			for col, env := range v.Envs {
				v.OKChecks += perCol[col]
				if perCol[col] > 0 {
					v.OKByEnv = append(v.OKByEnv, envCount{Env: env, N: perCol[col], Link: f.inEnv(env).query("status", "ok")})
				}
			}
		}
	}
	v.LimitParam = f.limitParam()
	v.Listed = len(listed)
	if f.Limit > 0 && len(listed) > f.Limit {
		listed = listed[:f.Limit]
		v.ShowAll = f.query("limit", "all")
	}
	v.Rows = make([]pageRow, 0, len(listed))
	cells := make([]cellView, 0, len(listed)*ncols)
	for _, ri := range listed {
		row := pageRow{Name: rows[ri].Name, Cells: make([]*cellView, ncols)}
		for col := range ncols {
			sl := slots[ri*ncols+col]
			if sl.check < 0 {
				continue
			}
			cells = append(cells, newCellView(&s.Checks[sl.check], now, !sl.match))
			row.Cells[col] = &cells[len(cells)-1]
		}
		v.Rows = append(v.Rows, row)
	}

	for _, d := range s.Deadlines {
		if !f.wantsEnv(d.Env) {
			continue
		}
		if len(v.Deadlines) == listLimit {
			v.MoreDeadlines++
			continue
		}
		dv := deadlineView{Deadline: d, Left: relative(now, d.At)}
		left := d.At.Sub(now)
		switch {
		case left <= 0:
			dv.Class = "passed"
		case d.Kind != DeadlineToken && left <= deadlineWarn:
			// An access token is renewed automatically; only its passing
			// matters, so it never turns amber.
			dv.Class = "due"
		}
		v.Deadlines = append(v.Deadlines, dv)
	}
	for _, in := range s.Incidents {
		if !f.wantsEnv(in.Env) {
			continue
		}
		if len(v.Incidents) == listLimit {
			v.MoreIncidents++
			continue
		}
		iv := incidentView{Incident: in, For: duration.Human(now.Sub(in.Since))}
		if !in.LastNotified.IsZero() {
			iv.LastNotified = relative(now, in.LastNotified)
		}
		v.Incidents = append(v.Incidents, iv)
	}
	for _, in := range s.Instances {
		v.Instances = append(v.Instances, instanceView{
			Instance: in,
			Self:     in.ID == s.Instance,
			Up:       duration.Human(now.Sub(in.Started)),
			LastSeen: relative(now, in.LastSeen),
		})
	}
	return v
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// countCauses adds the check's causes other than ok (main and findings,
// each once) to the summary.
func countCauses(c *CheckStatus, status string, env, nenvs int, by map[checks.Cause]*causeSummary) {
	if c.Last == nil {
		return
	}
	add := func(cause checks.Cause, st string) {
		if cause == "" || cause == checks.CauseOK {
			return
		}
		cs := by[cause]
		if cs == nil {
			cs = &causeSummary{Cause: cause, PerEnv: make([]envCount, nenvs), rank: -1}
			by[cause] = cs
		}
		cs.N++
		cs.PerEnv[env].N++
		if r := listOrder(st); r > cs.rank {
			cs.rank, cs.Status = r, st
		}
	}
	add(c.Last.Cause, status)
	for i, fd := range c.Last.Findings {
		if fd.Cause == c.Last.Cause || slices.ContainsFunc(c.Last.Findings[:i], func(o checks.Finding) bool { return o.Cause == fd.Cause }) {
			continue
		}
		add(fd.Cause, classOf(string(fd.Implied())))
	}
}

// sortedCauses lists the causes worst first, then by how many checks have
// them; PerEnv keeps only the environments that have the cause.
func sortedCauses(by map[checks.Cause]*causeSummary, envs []string) []causeSummary {
	out := make([]causeSummary, 0, len(by))
	for _, cs := range by {
		per := cs.PerEnv[:0]
		for i, ec := range cs.PerEnv {
			if ec.N > 0 {
				per = append(per, envCount{Env: envs[i], N: ec.N})
			}
		}
		cs.PerEnv = per
		out = append(out, *cs)
	}
	slices.SortFunc(out, func(a, b causeSummary) int {
		if a.rank != b.rank {
			return b.rank - a.rank
		}
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(string(a.Cause), string(b.Cause))
	})
	return out
}

func newCellView(c *CheckStatus, now time.Time, mini bool) cellView {
	status := checkClass(c)
	cell := cellView{Status: status, Label: labelOf(status), Icon: iconOf(status), Mini: mini}
	if c.Last != nil && c.Last.Cause != checks.CauseOK {
		cell.Cause = string(c.Last.Cause)
	}
	if mini {
		return cell
	}
	cell.OKRatio = fmt.Sprintf("%.0f%%", c.OKRatio*100)
	cell.Spark = sparkHTML(c.Recent)
	cell.Meta = metaHTML(c, now)
	cell.Credential, cell.Identity = c.Credential, c.Identity
	if l := c.Last; l != nil {
		cell.Findings, cell.Hint, cell.Challenge = l.Findings, l.Hint, l.Challenge
		if l.Status != checks.StatusOK {
			cell.Detail = l.Detail
		}
		if status != "ok" && (l.Hint != "" || len(l.Findings) > 0) {
			cell.Fix, cell.Open = true, status == "fail"
		}
	}
	return cell
}

// sparkBars are the bars of the sparkline, made once: a cell has one per
// kept run, and 10,000 cells times 20 runs through the template were most
// of the page's time.
var sparkBars = func() map[checks.Status]string {
	m := map[checks.Status]string{}
	for _, st := range []checks.Status{checks.StatusOK, checks.StatusWarn, checks.StatusFail, checks.StatusError} {
		m[st] = `<i class="b-` + statusClass(st) + `" title="` + string(st) + `"></i>`
	}
	return m
}()

// sparkHTML draws recent (newest first) left to right, oldest first. Every
// piece is a fixed string or escaped here.
func sparkHTML(recent []checks.Status) template.HTML {
	if len(recent) == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(40 + 40*len(recent))
	b.WriteString(`<span class="spark" title="last `)
	b.WriteString(strconv.Itoa(len(recent)))
	b.WriteString(` runs, oldest first">`)
	for i := len(recent) - 1; i >= 0; i-- {
		if bar, ok := sparkBars[recent[i]]; ok {
			b.WriteString(bar)
			continue
		}
		b.WriteString(`<i class="b-pending" title="`)
		b.WriteString(html.EscapeString(string(recent[i])))
		b.WriteString(`"></i>`)
	}
	b.WriteString(`</span>`)
	return template.HTML(b.String())
}

// metaHTML is the cell's line of facts: HTTP status, latency, last run,
// next run and token expiry, each escaped.
func metaHTML(c *CheckStatus, now time.Time) template.HTML {
	var b strings.Builder
	span := func(parts ...string) {
		b.WriteString("<span>")
		for _, p := range parts {
			b.WriteString(html.EscapeString(p))
		}
		b.WriteString("</span>")
	}
	ran := ""
	if l := c.Last; l != nil {
		if l.HTTPStatus != 0 {
			span("HTTP ", strconv.Itoa(l.HTTPStatus))
		}
		if m := millis(l.Latency); m != "" {
			span(m)
		}
		at := l.Started
		if at.IsZero() {
			at = l.Tick
		}
		if !at.IsZero() {
			ran = relative(now, at)
		}
	}
	if ran != "" {
		span("ran ", ran)
	} else {
		span("not run yet")
	}
	if !c.NextRun.IsZero() {
		if c.NextRun.After(now) {
			span("next ", relative(now, c.NextRun))
		} else {
			span("next due now")
		}
	}
	if l := c.Last; l != nil && l.Token != nil && l.Token.ExpiresAt != nil {
		span("token exp ", relative(now, *l.Token.ExpiresAt))
	}
	return template.HTML(b.String())
}

// thousands writes 10000 as 10,000: counts at fleet scale are read at a
// glance.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// relative says "in 6d 4h" or "3m ago".
func relative(now, t time.Time) string {
	switch d := t.Sub(now); {
	case d >= 0 && d < time.Second:
		return "now"
	case d < 0 && -d < time.Second:
		return "just now"
	}
	return duration.Relative(now, t)
}

func millis(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

func signedDuration(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%s%d µs", sign, d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%s%d ms", sign, d.Milliseconds())
	default:
		return fmt.Sprintf("%s%.2f s", sign, d.Seconds())
	}
}

func statusClass(s any) string {
	switch x := s.(type) {
	case string:
		return classOf(x)
	case checks.Status:
		return classOf(string(x))
	}
	return classOf(fmt.Sprint(s))
}

func classOf(s string) string {
	switch s {
	case "ok", "warn", "fail", "error":
		return s
	}
	return "pending"
}

// statusLabel and statusIcon give every status a word and a shape, so the
// page reads the same to someone who cannot tell red from green.
func statusLabel(s any) string { return labelOf(statusClass(s)) }

func statusIcon(s any) string { return iconOf(statusClass(s)) }

func labelOf(class string) string {
	switch class {
	case "ok":
		return "OK"
	case "warn":
		return "WARN"
	case "fail":
		return "FAIL"
	case "error":
		return "ERROR"
	}
	return "PENDING"
}

func iconOf(class string) string {
	switch class {
	case "ok":
		return "✓"
	case "warn":
		return "▲"
	case "fail":
		return "✕"
	case "error":
		return "?"
	}
	return "…"
}

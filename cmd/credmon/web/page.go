package web

import (
	_ "embed"
	"fmt"
	"github.com/credmon/credmon/checks/duration"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
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
		"ms":          millis,
		"utc":         func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"rfc3339":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"offset":      signedDuration,
	}).Parse(pageTemplate))}
}

func (p *page) render(w io.Writer, s *Snapshot) error {
	return p.tmpl.Execute(w, newPageView(s))
}

// pageView is the Snapshot arranged for reading: a matrix of checks (rows)
// by environments (columns), worst rows first, and times already relative.
type pageView struct {
	S         *Snapshot
	Now       time.Time
	Envs      []string
	Rows      []pageRow
	Counts    counts
	Worst     string // class of the worst status, for the header accent
	Deadlines []deadlineView
	Incidents []incidentView
	Instances []instanceView
	Clock     string // formatted clock offset, "" when unknown
}

type counts struct{ OK, Warn, Fail, Error, Pending, Total int }

type pageRow struct {
	Name  string
	Cells []*cellView // one per Envs entry; nil where the check is not configured
	rank  int
}

type cellView struct {
	C        CheckStatus
	Status   string // ok|warn|fail|error|pending
	Ago      string
	Next     string
	Spark    []string // statuses oldest to newest, for left-to-right reading
	Findings []checks.Finding
	TokenExp string
	OKRatio  string
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

func newPageView(s *Snapshot) *pageView {
	now := s.Generated
	if now.IsZero() {
		now = time.Now()
	}
	v := &pageView{S: s, Now: now}
	if s.ClockOffset != nil {
		v.Clock = signedDuration(*s.ClockOffset)
	}

	rows := map[string]*pageRow{}
	envIndex := map[string]int{}
	for _, c := range s.Checks {
		if _, ok := envIndex[c.Env]; !ok {
			envIndex[c.Env] = len(v.Envs)
			v.Envs = append(v.Envs, c.Env)
		}
	}
	worst := -1
	for _, c := range s.Checks {
		cell := newCellView(c, now)
		v.Counts.Total++
		switch cell.Status {
		case "ok":
			v.Counts.OK++
		case "warn":
			v.Counts.Warn++
		case "fail":
			v.Counts.Fail++
		case "error":
			v.Counts.Error++
		default:
			v.Counts.Pending++
		}
		row := rows[c.Name]
		if row == nil {
			row = &pageRow{Name: c.Name, Cells: make([]*cellView, len(v.Envs)), rank: -1}
			rows[c.Name] = row
		}
		row.Cells[envIndex[c.Env]] = cell
		r := checks.Status(cell.Status).Rank()
		row.rank = max(row.rank, r)
		worst = max(worst, r)
	}
	for _, r := range rows {
		v.Rows = append(v.Rows, *r)
	}
	// Failing rows float to the top: the page answers "what is broken" first.
	slices.SortFunc(v.Rows, func(a, b pageRow) int {
		if a.rank != b.rank {
			return b.rank - a.rank
		}
		return strings.Compare(a.Name, b.Name)
	})
	switch worst {
	case 3:
		v.Worst = "fail"
	case 2:
		v.Worst = "error"
	case 1:
		v.Worst = "warn"
	case 0:
		v.Worst = "ok"
	default:
		v.Worst = "pending"
	}

	for _, d := range s.Deadlines {
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

func newCellView(c CheckStatus, now time.Time) *cellView {
	cell := &cellView{C: c, Status: "pending", OKRatio: fmt.Sprintf("%.0f%%", c.OKRatio*100)}
	if c.Last != nil {
		cell.Status = string(c.Last.Status)
		at := c.Last.Started
		if at.IsZero() {
			at = c.Last.Tick
		}
		if !at.IsZero() {
			cell.Ago = relative(now, at)
		}
		cell.Findings = c.Last.Findings
		if t := c.Last.Token; t != nil && t.ExpiresAt != nil {
			cell.TokenExp = relative(now, *t.ExpiresAt)
		}
	}
	if !c.NextRun.IsZero() {
		if c.NextRun.After(now) {
			cell.Next = relative(now, c.NextRun)
		} else {
			cell.Next = "due now"
		}
	}
	for i := len(c.Recent) - 1; i >= 0; i-- {
		cell.Spark = append(cell.Spark, string(c.Recent[i]))
	}
	return cell
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
	switch v := fmt.Sprint(s); v {
	case "ok", "warn", "fail", "error":
		return v
	}
	return "pending"
}

// statusLabel and statusIcon give every status a word and a shape, so the
// page reads the same to someone who cannot tell red from green.
func statusLabel(s any) string {
	switch statusClass(s) {
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

func statusIcon(s any) string {
	switch statusClass(s) {
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

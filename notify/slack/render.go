package slack

import (
	"fmt"
	"github.com/credmon/credmon/checks/duration"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
)

// rendering is one message as Slack receives it.
type rendering struct {
	Text   string // the plain fallback: notifications, screen readers, old clients
	Blocks []slackapi.Block
}

// render builds the message a person reads in the channel or thread.
func render(m notify.Message) rendering {
	title := headline(m)
	var blocks []slackapi.Block
	blocks = append(blocks, header(title))
	if s := summary(m); s != "" {
		blocks = append(blocks, section(s))
	}
	blocks = append(blocks, slackapi.NewSectionBlock(nil, facts(m), nil))
	if m.Challenge != nil && m.Challenge.Scheme != "" {
		blocks = append(blocks, section("*Server challenge* (WWW-Authenticate)\n"+codeBlock(m.Challenge.String())))
	}
	if t := tokenClaims(m); t != "" {
		blocks = append(blocks, section(t))
	}
	if f := findings(m); f != "" {
		blocks = append(blocks, section(f))
	}
	if m.Hint != "" && m.Event != notify.EventResolved {
		blocks = append(blocks, section("*Fix*\n"+esc(m.Hint)))
	}
	blocks = append(blocks, footer(m))
	return rendering{Text: fallback(title, m.Detail), Blocks: capBlocks(blocks)}
}

// renderResolvedOpening rewrites the incident's opening message once it is
// resolved, so the channel shows at a glance what is still broken. The
// opening itself is not fetched back (that needs history scopes); it is
// rebuilt from the resolved message, which carries the same incident.
func renderResolvedOpening(m notify.Message) rendering {
	m.Event = notify.EventOpened
	m.Cause = incidentCause(m)
	m.PrevCause = ""
	title := truncatePlain("✅ RESOLVED — "+strings.TrimSpace(strings.TrimPrefix(headline(m), statusEmoji(m.Status))), maxHeaderText)
	when := "Resolved"
	if !m.At.IsZero() {
		when += " " + date(m.At)
		if !m.Since.IsZero() && m.At.After(m.Since) {
			when += ", after " + duration.Human(m.At.Sub(m.Since))
		}
	}
	blocks := []slackapi.Block{
		header(title),
		section(when + ". See the thread for the history."),
		slackapi.NewSectionBlock(nil, facts(m), nil),
		footer(m),
	}
	return rendering{Text: fallback(title, ""), Blocks: blocks}
}

// incidentCause is the cause an incident is about. A resolved message may
// carry ok as its cause and the incident's cause as the previous one.
func incidentCause(m notify.Message) checks.Cause {
	if m.Cause == "" || m.Cause == checks.CauseOK {
		return m.PrevCause
	}
	return m.Cause
}

// headline is "🔴 [prod] payments-account — invalid_token", plain text.
func headline(m notify.Message) string {
	subject := m.Check
	if subject == "" {
		subject = m.Credential
	}
	prefix := fmt.Sprintf("[%s] %s — ", m.Env, subject)
	var s string
	switch m.Event {
	case notify.EventResolved:
		s = "✅ " + prefix + "RESOLVED"
		if c := incidentCause(m); c != "" {
			s += " (" + string(c) + ")"
		}
	case notify.EventRotated:
		s = "🔑 " + prefix + "key rotated"
	case notify.EventPendingVerified:
		s = "🔑 " + prefix + "pending version verified: it works"
	case notify.EventReminder:
		s = statusEmoji(m.Status) + " " + prefix + string(m.Cause) + " (still open)"
	case notify.EventCauseChanged:
		s = statusEmoji(m.Status) + " " + prefix + string(m.Cause)
		if m.PrevCause != "" {
			s += " (was " + string(m.PrevCause) + ")"
		}
	default:
		s = statusEmoji(m.Status) + " " + prefix + string(m.Cause)
	}
	return truncatePlain(s, maxHeaderText)
}

func statusEmoji(s checks.Status) string {
	switch s {
	case checks.StatusFail:
		return "🔴"
	case checks.StatusError:
		return "🟠"
	case checks.StatusWarn:
		return "🟡"
	}
	return "🟢"
}

// summary is the detail sentence, with what the event adds to it.
func summary(m notify.Message) string {
	var b strings.Builder
	switch m.Event {
	case notify.EventReminder:
		b.WriteString("*Still open*")
		if !m.Since.IsZero() && !m.At.IsZero() {
			b.WriteString(" for " + duration.Human(m.At.Sub(m.Since)))
		}
		b.WriteString(". ")
	case notify.EventCauseChanged:
		if m.PrevCause != "" {
			b.WriteString("*Cause changed* from " + code(string(m.PrevCause)) + " to " + code(string(m.Cause)) + ". ")
		}
	case notify.EventResolved:
		b.WriteString("*Resolved*")
		if !m.Since.IsZero() && !m.At.IsZero() && m.At.After(m.Since) {
			b.WriteString(" after " + duration.Human(m.At.Sub(m.Since)))
		}
		b.WriteString(". ")
	}
	b.WriteString(esc(m.Detail))
	return strings.TrimSpace(b.String())
}

// facts are the two-column fields: where, what, since when.
func facts(m notify.Message) []*slackapi.TextBlockObject {
	var fs []*slackapi.TextBlockObject
	add := func(name, value string) {
		if value == "" || len(fs) == maxFields {
			return
		}
		fs = append(fs, mrkdwn(truncate("*"+name+"*\n"+value, maxFieldText)))
	}
	add("Environment", esc(m.Env))
	add("Check", esc(m.Check))
	cred := esc(m.Credential)
	if m.Identity != "" {
		cred = strings.TrimSpace(cred + "\n" + code(m.Identity))
	}
	add("Credential", cred)
	if m.Cause != "" {
		c := code(string(m.Cause))
		if m.PrevCause != "" && m.Event == notify.EventCauseChanged {
			c += " (was " + code(string(m.PrevCause)) + ")"
		}
		add("Cause", c)
	}
	if m.HTTPStatus != 0 {
		add("HTTP status", fmt.Sprint(m.HTTPStatus))
	}
	if !m.Since.IsZero() {
		add("Since", date(m.Since))
	}
	add("Band", esc(m.Band.String()))
	return fs
}

// tokenClaims shows the claims that explain most token failures: who
// issued it, for whom, and when it stops (or stopped) being valid.
func tokenClaims(m notify.Message) string {
	t := m.Token
	if t == nil {
		return ""
	}
	now := m.At
	if now.IsZero() {
		now = time.Now()
	}
	var lines []string
	if t.Issuer != "" {
		lines = append(lines, "• iss "+code(t.Issuer))
	}
	if len(t.Audience) > 0 {
		lines = append(lines, "• aud "+code(strings.Join(t.Audience, ", ")))
	}
	if t.ExpiresAt != nil {
		lines = append(lines, "• exp "+date(*t.ExpiresAt)+" ("+duration.Relative(now, *t.ExpiresAt)+")")
	}
	if t.NotBefore != nil && t.NotBefore.After(now) {
		lines = append(lines, "• nbf "+date(*t.NotBefore)+" ("+duration.Relative(now, *t.NotBefore)+")")
	}
	if t.Scope != "" {
		lines = append(lines, "• scope "+code(t.Scope))
	}
	if len(lines) == 0 {
		return ""
	}
	return truncate("*Token claims*\n"+strings.Join(lines, "\n"), maxSectionText)
}

// findings lists secondary causes, each with its own fix.
func findings(m notify.Message) string {
	if len(m.Findings) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*Also found*")
	for _, f := range m.Findings {
		b.WriteString("\n• " + code(string(f.Cause)) + " — " + esc(f.Detail))
		if f.Hint != "" {
			b.WriteString(" _Fix: " + esc(f.Hint) + "_")
		}
	}
	return truncate(b.String(), maxSectionText)
}

func footer(m notify.Message) slackapi.Block {
	s := "credmon · " + esc(string(m.Event))
	if m.IncidentKey != "" {
		s += " · incident " + code(m.IncidentKey)
	}
	if !m.At.IsZero() {
		s += " · " + date(m.At)
	}
	return slackapi.NewContextBlock("", mrkdwn(truncate(s, maxContextText)))
}

func header(s string) slackapi.Block {
	return slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, truncatePlain(s, maxHeaderText), true, false))
}

func section(s string) slackapi.Block {
	return slackapi.NewSectionBlock(mrkdwn(truncate(s, maxSectionText)), nil, nil)
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

func fallback(title, detail string) string {
	s := esc(title)
	if detail != "" {
		s += ": " + esc(detail)
	}
	return truncate(s, maxFallback)
}

// capBlocks keeps a payload within Slack's block limit, footer last.
func capBlocks(bs []slackapi.Block) []slackapi.Block {
	if len(bs) <= maxBlocks {
		return bs
	}
	return append(bs[:maxBlocks-1:maxBlocks-1], bs[len(bs)-1])
}

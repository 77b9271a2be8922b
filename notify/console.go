package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/credmon/credmon/checks"
)

// Console writes one readable line per result and per transition through
// slog, usually to stderr.
type Console struct {
	log *slog.Logger
}

var _ Notifier = (*Console)(nil)

// NewConsole returns a console notifier writing to log.
func NewConsole(log *slog.Logger) *Console { return &Console{log: log} }

// Name implements Notifier.
func (c *Console) Name() string { return "console" }

// Notify logs a transition; it cannot fail.
func (c *Console) Notify(ctx context.Context, m Message) (bool, error) {
	level := slog.LevelWarn
	switch {
	case m.Event == EventResolved:
		level = slog.LevelInfo
	case m.Status == checks.StatusFail || m.Status == checks.StatusError:
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("event", string(m.Event)),
		slog.String("env", m.Env),
		slog.String("check", m.Check),
		slog.String("cause", string(m.Cause)),
	}
	if m.PrevCause != "" {
		attrs = append(attrs, slog.String("prev_cause", string(m.PrevCause)))
	}
	if m.HTTPStatus != 0 {
		attrs = append(attrs, slog.Int("http", m.HTTPStatus))
	}
	if m.Identity != "" {
		attrs = append(attrs, slog.String("credential", m.Identity))
	}
	if !m.Since.IsZero() {
		attrs = append(attrs, slog.String("since", m.Since.UTC().Format(time.RFC3339)))
	}
	if m.Hint != "" {
		attrs = append(attrs, slog.String("fix", m.Hint))
	}
	c.log.LogAttrs(ctx, level, string(m.Event)+": "+m.Detail, attrs...)
	return false, nil
}

// Result logs one check result.
func (c *Console) Result(ctx context.Context, r checks.Result) {
	level := slog.LevelInfo
	switch r.Status {
	case checks.StatusWarn:
		level = slog.LevelWarn
	case checks.StatusFail, checks.StatusError:
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("env", r.Env),
		slog.String("check", r.Subject().Path()), // a credential's concern or the clock too
		slog.String("status", string(r.Status)),
		slog.String("cause", string(r.Cause)),
		slog.Duration("latency", r.Latency.Round(time.Millisecond)),
	}
	if r.HTTPStatus != 0 {
		attrs = append(attrs, slog.Int("http", r.HTTPStatus))
	}
	for _, f := range r.Findings {
		attrs = append(attrs, slog.String("also", string(f.Cause)))
	}
	if r.Hint != "" && level != slog.LevelInfo {
		attrs = append(attrs, slog.String("fix", r.Hint))
	}
	c.log.LogAttrs(ctx, level, r.Detail, attrs...)
}

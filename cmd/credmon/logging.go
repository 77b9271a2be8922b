package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logOptions are the Prometheus-style logging flags of the commands that
// log: -log.level and -log.format.
type logOptions struct{ level, format string }

func logFlags(fs *flag.FlagSet) *logOptions {
	o := &logOptions{}
	fs.StringVar(&o.level, "log.level", "info", "debug, info, warn or error")
	fs.StringVar(&o.format, "log.format", "logfmt", "logfmt or json")
	return o
}

// logger is the one place credmon's logger is built.
func (o *logOptions) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch o.level {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("-log.level must be debug, info, warn or error, not %q", o.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch o.format {
	case "logfmt":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log.format must be logfmt or json, not %q", o.format)
}

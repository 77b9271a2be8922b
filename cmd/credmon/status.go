package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/duration"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/cmd/credmon/web"
)

func init() {
	register("status", "what the daemon and store know: last result per check, incidents, deadlines, replicas", cmdStatus)
}

func cmdStatus(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("status", env)
	cfgPath := configFlag(fs, env)
	format := fs.String("format", "table", "table or json")
	httpConfig := httpConfigFlag(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	cfg, ok := loadConfig(*cfgPath, env.stderr)
	if !ok {
		return exitBadConfig
	}
	snap, note, err := fetchSnapshot(ctx, cfg, *httpConfig)
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon status: %s\n", inert(err.Error()))
		return exitFailure
	}
	if note != "" {
		fmt.Fprintf(env.stderr, "credmon status: %s\n", inert(note))
	}
	if *format == "json" {
		writeInertJSON(env.stdout, snap)
		return exitOK
	}
	printSnapshot(env.stdout, snap, time.Now())
	return exitOK
}

// writeInertJSON writes v as indented JSON with terminal controls escaped.
func writeInertJSON(w io.Writer, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	_, _ = w.Write(inertJSON(buf.Bytes()))
}

// fetchSnapshot asks the running daemon first (it holds the bolt file's
// lock and knows next runs), then falls back to reading the store. A
// daemon behind basic auth is asked only with a password from
// httpConfigFile (-http.config.file); without one the store is read, and
// note says so. A daemon that refuses the credentials is believed.
func fetchSnapshot(ctx context.Context, cfg *config.Config, httpConfigFile string) (snap *web.Snapshot, note string, err error) {
	fromRunning, derr := fromDaemon(ctx, cfg.Server, httpConfigFile)
	switch {
	case derr == nil:
		return fromRunning, "", nil
	case errors.Is(derr, errDaemonRefused), errors.Is(derr, errHTTPConfig):
		return nil, "", derr
	}
	st, err := daemon.OpenStore(ctx, cfg.Store)
	if err != nil {
		if errors.Is(derr, errDaemonNeedsPassword) {
			return nil, "", fmt.Errorf("%v; the store cannot be read instead: %w", derr, err)
		}
		return nil, "", fmt.Errorf("no daemon answers at %s (%v) and the store cannot be read: %w", cfg.Server.Listen, derr, err)
	}
	defer st.Close()
	if errors.Is(derr, errDaemonNeedsPassword) {
		note = fmt.Sprintf("read from the store, not the daemon (no next runs): %v", derr)
	}
	v := web.View{Instance: "(store)"}
	for _, c := range cfg.CheckList() {
		v.Checks = append(v.Checks, web.Configured{Env: c.Env, Name: c.Name, Credential: c.Credential, Schedule: c.Schedule})
	}
	return web.BuildSnapshot(ctx, st, v), note, nil
}

// daemonBase is the client and base URL that reach the configured daemon,
// with the client config of -http.config.file when one is given.
func daemonBase(srv config.Server, httpConfigFile string) (*http.Client, string, error) {
	host, port, err := net.SplitHostPort(srv.Listen)
	if err != nil || port == "0" {
		return nil, "", fmt.Errorf("no fixed listen address")
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client, scheme, err := daemonClient(srv.WebConfigFile, httpConfigFile)
	if err != nil {
		if errors.Is(err, errDaemonNeedsPassword) {
			err = fmt.Errorf("daemon at %s: %w", srv.Listen, err)
		}
		return nil, "", err
	}
	return client, scheme + "://" + net.JoinHostPort(host, port), nil
}

// refusedError is the error of a daemon that answered 401.
func refusedError(status, httpConfigFile string) error {
	if httpConfigFile == "" {
		return fmt.Errorf("%w (%s): pass -%s FILE, a Prometheus HTTP client config with basic_auth: {username: USER, password_file: PATH}", errDaemonRefused, status, httpConfigFlagName)
	}
	return fmt.Errorf("%w with the credentials of -%s %s (%s)", errDaemonRefused, httpConfigFlagName, httpConfigFile, status)
}

func fromDaemon(ctx context.Context, srv config.Server, httpConfigFile string) (*web.Snapshot, error) {
	client, base, err := daemonBase(srv, httpConfigFile)
	if err != nil {
		return nil, err
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, refusedError(resp.Status, httpConfigFile)
	default:
		return nil, fmt.Errorf("daemon answered %s", resp.Status)
	}
	var snap web.Snapshot
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

func printSnapshot(w io.Writer, s *web.Snapshot, now time.Time) {
	fmt.Fprintf(w, "instance %s", inert(s.Instance))
	if !s.Ready && len(s.NotReady) > 0 {
		fmt.Fprintf(w, " — NOT READY: %s", inert(strings.Join(s.NotReady, "; ")))
	}
	if s.ClockOffset != nil {
		fmt.Fprintf(w, " — clock offset %s", *s.ClockOffset)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tCHECK\tSTATUS\tCAUSE\tHTTP\tLAST RUN\tNEXT RUN")
	for _, c := range s.Checks {
		status, cause, httpStatus, last, next := "-", "-", "-", "never", "-"
		if r := c.Last; r != nil {
			status, cause, last = strings.ToUpper(string(r.Status)), string(r.Cause), duration.Human(now.Sub(r.Started))+" ago"
			if r.HTTPStatus != 0 {
				httpStatus = fmt.Sprint(r.HTTPStatus)
			}
		}
		if !c.NextRun.IsZero() {
			next = "in " + duration.Human(c.NextRun.Sub(now))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inert(c.Env), inert(c.Name), inert(status), inert(cause), httpStatus, last, next)
	}
	tw.Flush()
	if len(s.Incidents) > 0 {
		fmt.Fprintln(w, "\nopen incidents:")
		for _, in := range s.Incidents {
			fmt.Fprintf(w, "  %s/%s %s since %s\n", inert(in.Env), inert(in.Subject), inert(string(in.Cause)), in.Since.UTC().Format(time.RFC3339))
		}
	}
	if len(s.Deadlines) > 0 {
		fmt.Fprintln(w, "\ndeadlines:")
		dl := append([]web.Deadline(nil), s.Deadlines...)
		sort.Slice(dl, func(i, j int) bool { return dl[i].At.Before(dl[j].At) })
		for _, d := range dl {
			fmt.Fprintf(w, "  %s/%s %s %s (%s)\n", inert(d.Env), inert(d.Credential), inert(d.Kind), d.At.UTC().Format(time.RFC3339), duration.Relative(now, d.At))
		}
	}
	if len(s.Instances) > 0 {
		fmt.Fprintln(w, "\nreplicas:")
		for _, in := range s.Instances {
			fmt.Fprintf(w, "  %s last seen %s ago\n", inert(in.ID), duration.Human(now.Sub(in.LastSeen)))
		}
	}
}

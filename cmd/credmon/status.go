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
	"github.com/credmon/credmon/checks/redact"
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

// daemonAPI is how the CLI reaches the configured daemon.
type daemonAPI struct {
	client         *http.Client
	base           string // scheme://host:port
	listen         string // as configured, for messages
	httpConfigFile string // -http.config.file, "" for none
	sensitive      *redact.Set
}

// daemonBase is the API of the configured daemon, with the client config
// of -http.config.file when one is given.
func daemonBase(srv config.Server, httpConfigFile string) (daemonAPI, error) {
	host, port, err := net.SplitHostPort(srv.Listen)
	if err != nil || port == "0" {
		return daemonAPI{}, fmt.Errorf("no fixed listen address")
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client, scheme, sensitive, err := daemonClient(srv.WebConfigFile, httpConfigFile)
	if err != nil {
		if errors.Is(err, errDaemonNeedsPassword) {
			err = fmt.Errorf("daemon at %s: %w", srv.Listen, err)
		}
		return daemonAPI{}, err
	}
	return daemonAPI{client: client, base: scheme + "://" + net.JoinHostPort(host, port), listen: srv.Listen,
		httpConfigFile: httpConfigFile, sensitive: sensitive}, nil
}

// call sends one request to the daemon within timeout and decodes a 2xx
// answer (at most limit bytes) into out. Refused connections wrap
// errNoDaemon, a 401 is refusedError, and any other answer's text is
// printed redacted of the credentials sent, then cut: a server at the
// daemon's address may echo them.
func (d daemonAPI) call(ctx context.Context, method, path string, body []byte, timeout time.Duration, limit int64, out any) error {
	defer d.client.CloseIdleConnections()
	d.client.Timeout = timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w at %s: %v", errNoDaemon, d.listen, err)
	}
	if err != nil {
		// Something answered and then failed: a write may have been
		// stored, so the caller must not repeat it behind the daemon.
		return fmt.Errorf("daemon at %s: %v", d.listen, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return refusedError(resp.Status, d.httpConfigFile)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("daemon answered %s: %s", resp.Status, redact.Excerpt(string(data), daemonErrorKept, d.sensitive))
	}
	return json.Unmarshal(data, out)
}

// daemonErrorKept is how much of an error answer the CLI prints.
const daemonErrorKept = 512

// refusedError is the error of a daemon that answered 401.
func refusedError(status, httpConfigFile string) error {
	if httpConfigFile == "" {
		return fmt.Errorf("%w (%s): %s", errDaemonRefused, status, httpConfigHint)
	}
	return fmt.Errorf("%w with the credentials of -%s %s (%s)", errDaemonRefused, httpConfigFlagName, httpConfigFile, status)
}

func fromDaemon(ctx context.Context, srv config.Server, httpConfigFile string) (*web.Snapshot, error) {
	d, err := daemonBase(srv, httpConfigFile)
	if err != nil {
		return nil, err
	}
	var snap web.Snapshot
	if err := d.call(ctx, http.MethodGet, "/api/v1/status", nil, 2*time.Second, 64<<20, &snap); err != nil {
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
	for _, p := range s.Problems {
		fmt.Fprintf(w, "problem: %s\n", inert(p))
	}
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

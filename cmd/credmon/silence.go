package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/duration"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/cmd/credmon/web"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
)

func init() {
	register("silence", "hold notifications while you work: silence add|list|expire", cmdSilence)
}

const silenceUsage = `usage:
  credmon silence add -env E [-check C | -credential C] -for 2h -comment TEXT
  credmon silence list [-all] [-format table|json]
  credmon silence expire ID
each also takes -config PATH and -http.config.file FILE (a Prometheus HTTP
client config with basic_auth, for a daemon behind basic_auth_users)`

// cmdSilence manages runtime silences: through the running daemon when one
// answers (it holds a bolt store's lock), else in the store directly.
func cmdSilence(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, silenceUsage)
		return exitBadConfig
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("silence "+sub, env)
	cfgPath := configFlag(fs, env)
	httpConfig := httpConfigFlag(fs)
	var (
		envName, check, cred, forS, comment, format *string
		all                                         *bool
	)
	switch sub {
	case "add":
		envName = fs.String("env", "", "environment (required)")
		check = fs.String("check", "", "silence only this check")
		cred = fs.String("credential", "", "silence only this credential")
		forS = fs.String("for", "", "how long, e.g. 2h or 1d (required)")
		comment = fs.String("comment", "", "why, for whoever reads the status page")
	case "list":
		all = fs.Bool("all", false, "include silences that ended in the last day")
		format = fs.String("format", "table", "table or json")
	case "expire":
	case "-h", "-help", "--help", "help":
		// As -h of any command: usage on stderr, exit 2.
		fmt.Fprintln(env.stderr, silenceUsage)
		return exitBadConfig
	default:
		fmt.Fprintf(env.stderr, "credmon silence: unknown subcommand %q\n%s\n", sub, silenceUsage)
		return exitBadConfig
	}
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	cfg, ok := loadConfig(*cfgPath, env.stderr)
	if !ok {
		return exitBadConfig
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "credmon silence %s: %s\n", sub, inert(fmt.Sprintf(format, a...)))
		return exitBadConfig
	}
	switch sub {
	case "add":
		req := web.SilenceRequest{SilenceMatch: notify.SilenceMatch{Env: *envName, Check: *check, Credential: *cred}, For: *forS, Comment: *comment}
		if msg := silenceProblem(cfg, req); msg != "" {
			return fail("%s", msg)
		}
		var sl notify.Silence
		body, _ := json.Marshal(req)
		err := viaDaemon(ctx, cfg, *httpConfig, http.MethodPost, "/api/v1/silences", body, &sl, func(s *notify.Silences) error {
			d, _ := duration.Parse(req.For)
			var err error
			sl, err = s.Add(ctx, req.SilenceMatch, d, req.Comment)
			return err
		})
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(env.stdout, "silence %s added: %s until %s\n", sl.ID, inert(describeMatch(sl.SilenceMatch)), sl.End.UTC().Format(time.RFC3339))
		return exitOK
	case "expire":
		if fs.NArg() != 1 {
			return fail("give one silence ID (credmon silence list shows them)")
		}
		id := fs.Arg(0)
		var sl notify.Silence
		err := viaDaemon(ctx, cfg, *httpConfig, http.MethodPost, "/api/v1/silences/"+url.PathEscape(id)+"/expire", nil, &sl, func(s *notify.Silences) error {
			var err error
			sl, err = s.Expire(ctx, id)
			return err
		})
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(env.stdout, "silence %s expired; its held notifications go out within a minute\n", sl.ID)
		return exitOK
	}
	var list []notify.Silence
	err := viaDaemon(ctx, cfg, *httpConfig, http.MethodGet, "/api/v1/silences", nil, &list, func(s *notify.Silences) error {
		var err error
		list, err = s.Runtime(ctx)
		if damaged := (*store.DamagedError)(nil); errors.As(err, &damaged) {
			// Said, and the silences that read listed all the same.
			fmt.Fprintf(env.stderr, "credmon silence list: %s\n", inert(err.Error()))
			return nil
		}
		return err
	})
	if err != nil {
		return fail("%v", err)
	}
	now := time.Now()
	list = slices.DeleteFunc(list, func(s notify.Silence) bool { return !*all && !s.Active(now) })
	for _, w := range daemon.MaintenanceWindows(cfg) {
		if s, ok := w.At(now); ok {
			list = append(list, s)
		}
	}
	if *format == "json" {
		if list == nil {
			list = []notify.Silence{}
		}
		writeInertJSON(env.stdout, list)
		return exitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(env.stdout, "no active silences")
		return exitOK
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMATCH\tSTATE\tUNTIL\tCOMMENT")
	for _, s := range list {
		id, state := s.ID, "active"
		if s.Source == notify.SourceMaintenance {
			id = "(maintenance)"
		}
		if !s.Active(now) {
			state = "ended"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", inert(id), inert(describeMatch(s.SilenceMatch)), state, s.End.UTC().Format(time.RFC3339), inert(s.Comment))
	}
	tw.Flush()
	return exitOK
}

// silenceProblem checks a new silence against the configuration, so a
// typo does not silence nothing for two hours.
func silenceProblem(cfg *config.Config, req web.SilenceRequest) string {
	d, err := duration.Parse(req.For)
	switch {
	case req.Env == "":
		return "-env is required"
	case req.Check != "" && req.Credential != "":
		return "give -check or -credential, not both"
	case req.For == "":
		return "-for is required, e.g. -for 2h"
	case err != nil || d <= 0:
		return fmt.Sprintf("-for %q: want a duration greater than 0, like 2h or 1d", req.For)
	}
	e, ok := cfg.Environments[req.Env]
	if !ok || e == nil {
		return fmt.Sprintf("unknown environment %q", req.Env)
	}
	if req.Check != "" && !slices.ContainsFunc(e.Checks, func(c *config.Check) bool { return c != nil && c.Name == req.Check }) {
		return fmt.Sprintf("environment %s has no check %q", req.Env, req.Check)
	}
	if _, ok := e.Credentials[req.Credential]; req.Credential != "" && !ok {
		return fmt.Sprintf("environment %s has no credential %q", req.Env, req.Credential)
	}
	return ""
}

func describeMatch(m notify.SilenceMatch) string {
	parts := []string{"env=" + m.Env}
	if m.Env == "" {
		parts[0] = "env=any"
	}
	if m.Check != "" {
		parts = append(parts, "check="+m.Check)
	}
	if m.Credential != "" {
		parts = append(parts, "credential="+m.Credential)
	}
	return strings.Join(parts, " ")
}

// errNoDaemon is a daemon that did not answer: the store is tried instead.
var errNoDaemon = errors.New("no daemon answers")

// viaDaemon asks the running daemon (method path body, answer decoded into
// out) with the client config of httpConfigFile (-http.config.file); when
// no daemon answers, or it asks for a password the CLI was not given, it
// runs direct on the store instead (with bolt the daemon holds the file,
// so that fails). A daemon that answers with an error is believed, not
// bypassed.
func viaDaemon(ctx context.Context, cfg *config.Config, httpConfigFile, method, path string, body []byte, out any, direct func(*notify.Silences) error) error {
	derr := callDaemon(ctx, cfg.Server, httpConfigFile, method, path, body, out)
	if !errors.Is(derr, errNoDaemon) && !errors.Is(derr, errDaemonNeedsPassword) {
		return derr
	}
	if cfg.Store.Driver == "memory" {
		// A memory store is the daemon's own: one opened here would take
		// the silence and forget it.
		return fmt.Errorf("%v; with store.driver memory only the daemon holds silences", derr)
	}
	st, err := daemon.OpenStore(ctx, cfg.Store)
	if err != nil {
		if errors.Is(derr, errDaemonNeedsPassword) {
			return fmt.Errorf("%v; the store cannot be opened instead: %w", derr, err)
		}
		return fmt.Errorf("%v and the store cannot be opened: %w", derr, err)
	}
	defer st.Close()
	return direct(notify.NewSilences(st, nil, nil))
}

func callDaemon(ctx context.Context, srv config.Server, httpConfigFile, method, path string, body []byte, out any) error {
	d, err := daemonBase(srv, httpConfigFile)
	switch {
	case errors.Is(err, errDaemonNeedsPassword), errors.Is(err, errHTTPConfig):
		return err
	case err != nil:
		return fmt.Errorf("%w at %s: %v", errNoDaemon, srv.Listen, err)
	}
	// A write waits for the store's fsync; a busy machine is slower than
	// status's two seconds.
	return d.call(ctx, method, path, body, 15*time.Second, 1<<20, out)
}

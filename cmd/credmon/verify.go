package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

func init() {
	register("verify", "ENV/CREDENTIAL -candidate-env NAME|-candidate-file PATH|-candidate -: run the credential's checks with a candidate secret, before you rotate (no state, no alerts)", cmdVerify)
}

const verifyUsage = "usage: credmon verify [-config PATH] ENV/CREDENTIAL (-candidate-env NAME | -candidate-file PATH | -candidate -)"

// cmdVerify runs every check that uses a credential, presenting a candidate
// secret instead of the configured one. It builds checks as `check` does —
// in-memory token cache, no store, no notifier — so it touches no state
// and sends no alert. The candidate never comes from the command line,
// where ps and shell history would keep it.
func cmdVerify(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("verify", env)
	cfgPath := configFlag(fs, env)
	fromEnv := fs.String("candidate-env", "", "read the candidate secret from this environment variable")
	fromFile := fs.String("candidate-file", "", "read the candidate secret from this file")
	fromStdin := fs.String("candidate", "", "- reads the candidate secret from stdin (nothing else is accepted: a secret in an argument is visible to every user of the machine)")
	// Flags may follow ENV/CREDENTIAL, as people type them.
	target, err := parseInterleaved(fs, args)
	if err != nil {
		return exitBadConfig
	}
	n := 0
	for _, s := range []string{*fromEnv, *fromFile, *fromStdin} {
		if s != "" {
			n++
		}
	}
	if target == "" || !strings.Contains(target, "/") || n != 1 {
		fmt.Fprintln(env.stderr, verifyUsage)
		return exitBadConfig
	}
	if *fromStdin != "" && *fromStdin != "-" {
		fmt.Fprintln(env.stderr, "credmon verify: -candidate takes only - (read from stdin); never put a secret in an argument, use -candidate-env or -candidate-file")
		return exitBadConfig
	}
	candidate, where, err := readCandidate(env, *fromEnv, *fromFile, *fromStdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon verify: %v\n", err)
		return exitBadConfig
	}
	envName, credName, _ := strings.Cut(target, "/")
	cfg, ok := loadConfig(*cfgPath, env.stderr)
	if !ok {
		return exitBadConfig
	}
	e := cfg.Environments[envName]
	var cred *config.Credential
	if e != nil {
		cred = e.Credential(credName)
	}
	if cred == nil {
		fmt.Fprintf(env.stderr, "credmon verify: no credential %s/%s in the config\n", envName, credName)
		return exitBadConfig
	}
	e.Credentials[credName] = withCandidate(cred, config.Provided(candidate, "the candidate ("+where+")"))
	all, err := checks.Build(cfg, checks.Deps{})
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon verify: %v\n", err)
		return exitBadConfig
	}
	var selected []*checks.Check
	for _, c := range all {
		if c.Env == envName && c.Cfg.Credential == credName {
			selected = append(selected, c)
		}
	}
	if len(selected) == 0 {
		fmt.Fprintf(env.stderr, "credmon verify: no check uses %s/%s, so there is nothing to verify the candidate with\n", envName, credName)
		return exitBadConfig
	}
	results := runChecks(ctx, selected, cfg.Scheduler.MaxConcurrency)
	printResults(env.stdout, results)
	failed := 0
	for _, r := range results {
		if s := r.Status; s == checks.StatusFail || s == checks.StatusError {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(env.stdout, "\nverify %s: the candidate FAILS %d of %d checks; do not rotate to it yet.\n", inert(target), failed, len(results))
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "\nverify %s: the candidate passes every check (%d); it is safe to rotate to it.\n", inert(target), len(results))
	return exitOK
}

// parseInterleaved parses flags before and after the one positional
// argument.
func parseInterleaved(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", nil
	}
	return pos[0], nil
}

// readCandidate reads the candidate from exactly one place. A file is read
// by the one secret-file reader (regular files, 64 KiB, newline stripped).
func readCandidate(env *cliEnv, name, path, stdin string) (text, where string, err error) {
	switch {
	case name != "":
		text = env.getenv(name)
		where = "environment variable " + name
		if text == "" {
			return "", "", fmt.Errorf("environment variable %s is not set or empty", name)
		}
	case path != "":
		v, rerr := config.FromFile(path).Resolve()
		if rerr != nil {
			return "", "", fmt.Errorf("candidate file: %s", strings.TrimPrefix(rerr.Error(), config.ErrSecretUnresolved.Error()+": "))
		}
		text, where = v.Text, "file "+path
	case stdin == "-":
		b, rerr := io.ReadAll(io.LimitReader(env.stdin, config.MaxSecretFile+1))
		if rerr != nil {
			return "", "", fmt.Errorf("read stdin: %w", rerr)
		}
		if len(b) > config.MaxSecretFile {
			return "", "", fmt.Errorf("stdin holds more than %d KiB; that is not a secret", config.MaxSecretFile>>10)
		}
		text, where = strings.TrimRight(string(b), "\r\n"), "stdin"
	}
	if text == "" {
		return "", "", errors.New("the candidate is empty")
	}
	return text, where, nil
}

// withCandidate is a copy of cred presenting candidate as its secret (the
// client secret or refresh token of an OAuth2 credential). The configured
// secret stays as previous, only so that both are redacted from output.
func withCandidate(cred *config.Credential, candidate config.Secret) *config.Credential {
	c := *cred
	switch c.Type {
	case config.TypeOAuth2ClientCredentials:
		c.ClientSecret = candidate
	case config.TypeOAuth2RefreshToken:
		c.RefreshToken = candidate
	default:
		c.Secret, c.Previous = candidate, cred.Secret
	}
	return &c
}

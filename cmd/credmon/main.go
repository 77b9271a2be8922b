// Command credmon is a scheduled credential health monitor: it probes every
// API credential per environment, explains failures and alerts a team.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK        = 0
	exitFailure   = 1
	exitBadConfig = 2
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	run     func(ctx context.Context, env *cliEnv, args []string) int
	summary string
}

// cliEnv carries the process's streams, so commands can run inside tests.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// reload delivers SIGHUP to the daemon; nil in tests.
	reload <-chan os.Signal
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, env *cliEnv, args []string) int) {
	commands[name] = command{run: run, summary: summary}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	code := run(ctx, &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, reload: hup}, os.Args[1:])
	signal.Stop(hup)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return exitBadConfig
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "credmon: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return exitBadConfig
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: credmon <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, name := range []string{"run", "check", "validate", "explain", "status", "jwt", "demo", "sandbox", "version"} {
		if c, ok := commands[name]; ok {
			fmt.Fprintf(w, "  %-9s %s\n", name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nEvery command takes -config PATH (default config.yaml, or $CREDMON_CONFIG; a directory merges every *.yaml in it).")
}

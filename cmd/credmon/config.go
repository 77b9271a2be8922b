package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/credmon/credmon/checks/config"
)

// configFlag registers -config with its default from $CREDMON_CONFIG.
func configFlag(fs *flag.FlagSet, env *cliEnv) *string {
	def := env.getenv("CREDMON_CONFIG")
	if def == "" {
		def = "config.yaml"
	}
	return fs.String("config", def, "config file, or a directory of *.yaml files (env CREDMON_CONFIG)")
}

// loadConfig loads the config and prints every error and warning, one per
// line, as FILE:LINE:COL: field.path: message.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.Load(path)
	if err != nil {
		printErrors(stderr, err)
		return nil, false
	}
	printWarnings(stderr, cfg.Warnings, 2)
	return cfg, true
}

// printWarnings prints warnings; beyond limit of the same kind it prints a
// count instead (`credmon validate` lists them all).
func printWarnings(w io.Writer, warnings []*config.Error, limit int) {
	seen := map[string]int{}
	for _, warn := range warnings {
		seen[warn.Msg]++
		if limit <= 0 || seen[warn.Msg] <= limit {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
	}
	for _, warn := range warnings {
		if n := seen[warn.Msg]; limit > 0 && n > limit {
			fmt.Fprintf(w, "warning: … and %d more: %s (`credmon validate` lists them)\n", n-limit, warn.Msg)
			seen[warn.Msg] = 0
		}
	}
}

// printErrors prints a joined error one line per problem.
func printErrors(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			printErrors(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, env *cliEnv) *flag.FlagSet {
	fs := flag.NewFlagSet("credmon "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}

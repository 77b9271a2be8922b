package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"
)

func TestLogFlags(t *testing.T) {
	parse := func(args ...string) *logOptions {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		o := logFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return o
	}

	var buf bytes.Buffer
	log, err := parse("-log.format", "json", "-log.level", "warn").logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden at warn")
	log.Warn("store: result not recorded", "check", "prod/payments")
	sc := bufio.NewScanner(&buf)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("json log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["msg"] != "store: result not recorded" || lines[0]["check"] != "prod/payments" {
		t.Errorf("json lines at warn = %v, want the one warning", lines)
	}

	buf.Reset()
	log, err = parse("-log.level", "debug").logger(&buf) // logfmt is the default
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("tick", "check", "prod/a b")
	if got := buf.String(); !strings.Contains(got, `level=DEBUG msg=tick check="prod/a b"`) {
		t.Errorf("logfmt line = %q", got)
	}

	for _, args := range [][]string{{"-log.level", "verbose"}, {"-log.level", "INFO+2"}, {"-log.format", "yaml"}} {
		if _, err := parse(args...).logger(&buf); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: err = %v, want one naming %s", args, err, args[0])
		}
	}
}

// A bad logging flag is a usage error before anything starts.
func TestRunRejectsBadLogFlags(t *testing.T) {
	res := runCLI(t, "", "run", "-config", writeConfig(t, "server:\n  listen: 127.0.0.1:0\n"), "-log.format", "yaml")
	if res.code != exitBadConfig || !strings.Contains(res.stderr, `-log.format must be logfmt or json, not "yaml"`) {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
}

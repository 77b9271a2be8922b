package main

import (
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// formatConfig is leakConfig plus an unreachable check (an error, not a
// failure) and a second environment, so every shape of the reports shows.
func formatConfig(t *testing.T, url string) string {
	path := leakConfig(t, url)
	// A port that was just free: nothing listens, the connection is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/v1/me"
	ln.Close()
	// leakConfig ends in prod's checks list: extend it, then add staging.
	extra := fmt.Sprintf(`      - {name: down, credential: good, url: %[2]q, timeout: 2s}
  staging:
    credentials:
      good: {type: api_key, secret: {env: CREDMON_TEST_STAGING_KEY}}
    checks:
      - {name: good, credential: good, url: %[1]q}
`, url, closed)
	t.Setenv("CREDMON_TEST_STAGING_KEY", fakeStaging)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckJUnit(t *testing.T) {
	srv := fakeAPI(t)
	cfg := formatConfig(t, srv.URL+"/v1/me")
	r := runCLI(t, "", "check", "-config", cfg, "-format", "junit")
	if r.code != exitFailure {
		t.Fatalf("exit %d, want 1 (the report is written, the exit code still says it failed)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration:\n%.200s", r.stdout)
	}

	var report struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"error"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatalf("not XML: %v\n%s", err, r.stdout)
	}
	if report.Name != "credmon" || report.Tests != 5 || report.Failures != 2 || report.Errors != 1 || len(report.Suites) != 2 {
		t.Fatalf("testsuites name=%q tests=%d failures=%d errors=%d suites=%d, want credmon 5 2 1 2\n%s",
			report.Name, report.Tests, report.Failures, report.Errors, len(report.Suites), r.stdout)
	}
	prod, staging := report.Suites[0], report.Suites[1]
	if prod.Name != "prod" || prod.Tests != 4 || prod.Failures != 2 || prod.Errors != 1 || staging.Name != "staging" || staging.Tests != 1 || staging.Failures+staging.Errors != 0 {
		t.Errorf("suites: %s %d/%d/%d, %s %d/%d/%d", prod.Name, prod.Tests, prod.Failures, prod.Errors, staging.Name, staging.Tests, staging.Failures, staging.Errors)
	}
	cases := map[string]int{}
	for i, c := range prod.Cases {
		cases[c.Name] = i
		if c.Classname != "credmon.prod" || c.Time == "" {
			t.Errorf("case %s: classname %q time %q", c.Name, c.Classname, c.Time)
		}
	}
	good, stale, newline, down := prod.Cases[cases["good"]], prod.Cases[cases["stale"]], prod.Cases[cases["newline"]], prod.Cases[cases["down"]]
	if good.Failure != nil || good.Error != nil || good.SystemOut != "" {
		t.Errorf("the ok check is not a plain pass: %+v", good)
	}
	if f := stale.Failure; f == nil || f.Type != "invalid_token" || !strings.HasPrefix(f.Message, "invalid_token: ") || len(f.Message) < len("invalid_token: ")+10 {
		t.Errorf("stale: failure %+v, want type invalid_token and message cause: detail", f)
	} else if !strings.Contains(f.Text, "http status: 401") || !strings.Contains(f.Text, "credential: stale") {
		t.Errorf("stale failure body lacks the status or credential:\n%s", f.Text)
	}
	if !strings.HasPrefix(stale.SystemOut, "fix: ") {
		t.Errorf("stale: system-out %q, want the fix", stale.SystemOut)
	}
	if f := newline.Failure; f == nil || f.Type != "malformed_credential" {
		t.Errorf("newline: failure %+v, want malformed_credential", f)
	}
	if e := down.Error; e == nil || e.Type != "unreachable" || down.Failure != nil {
		t.Errorf("down: error %+v failure %+v, want an <error> of type unreachable", e, down.Failure)
	}

	validateJUnit(t, r.stdout)
}

// validateJUnit checks the report against testdata/junit.xsd with xmllint.
func validateJUnit(t *testing.T, report string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint not found (apt-get install libxml2-utils); CI must validate the JUnit report")
		}
		t.Skip("xmllint not found (apt-get install libxml2-utils): the JUnit report is not validated against testdata/junit.xsd")
	}
	path := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(path, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput()
	if err != nil {
		t.Errorf("the JUnit report does not validate against testdata/junit.xsd: %v\n%s\n%s", err, out, report)
	}
}

// The schema is strict enough to refuse what CI readers half-show, so a
// passing validation means something.
func TestJUnitSchemaRefusesBrokenReports(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		validateJUnit(t, "") // skips, or fails under CI
	}
	for name, doc := range map[string]string{
		"no classname":    `<testsuites name="credmon" tests="1" failures="0" errors="0" time="0"><testsuite name="prod" tests="1" failures="0" errors="0" time="0" timestamp="2026-01-02T03:04:05Z"><testcase name="x" time="0"/></testsuite></testsuites>`,
		"failure no type": `<testsuites name="credmon" tests="1" failures="1" errors="0" time="0"><testsuite name="prod" tests="1" failures="1" errors="0" time="0" timestamp="2026-01-02T03:04:05Z"><testcase name="x" classname="c" time="0"><failure message="m"/></testcase></testsuite></testsuites>`,
		"bad time":        `<testsuites name="credmon" tests="1" failures="0" errors="0" time="12ms"><testsuite name="prod" tests="1" failures="0" errors="0" time="0" timestamp="2026-01-02T03:04:05Z"><testcase name="x" classname="c" time="0"/></testsuite></testsuites>`,
		"two outcomes":    `<testsuites name="credmon" tests="1" failures="1" errors="1" time="0"><testsuite name="prod" tests="1" failures="1" errors="1" time="0" timestamp="2026-01-02T03:04:05Z"><testcase name="x" classname="c" time="0"><failure message="m" type="t"/><error message="m" type="t"/></testcase></testsuite></testsuites>`,
	} {
		path := filepath.Join(t.TempDir(), "report.xml")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("xmllint", "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput(); err == nil {
			t.Errorf("%s: validated:\n%s", name, out)
		}
	}
}

func TestCheckGitHub(t *testing.T) {
	srv := fakeAPI(t)
	cfg := formatConfig(t, srv.URL+"/v1/me")
	r := runCLI(t, "", "check", "-config", cfg, "-format", "github")
	if r.code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 annotations and a summary:\n%s", len(lines), r.stdout)
	}
	// Each annotation points at the check's line in the config: leakConfig
	// defines good, stale, newline on lines 10-12, formatConfig down on 13.
	for _, prefix := range []string{
		"::error file=" + cfg + ",line=11,title=credmon prod/stale%3A invalid_token::",
		"::error file=" + cfg + ",line=12,title=credmon prod/newline%3A malformed_credential::",
		"::error file=" + cfg + ",line=13,title=credmon prod/down%3A unreachable::",
	} {
		found := false
		for _, l := range lines[:3] {
			if strings.HasPrefix(l, prefix) {
				found = true
				if !strings.Contains(l, "%0Afix: ") {
					t.Errorf("annotation without the fix on its own line: %s", l)
				}
			}
		}
		if !found {
			t.Errorf("no line starts %q:\n%s", prefix, r.stdout)
		}
	}
	if lines[3] != "credmon: 5 checks, 3 failed, 0 warned" {
		t.Errorf("summary %q", lines[3])
	}
}

// Workflow command escaping as the runner parses it: % first, CR and LF
// in both parts, and the property separators in property values only.
func TestGitHubEscaping(t *testing.T) {
	if got, want := ghData("100% done\r\n::add-mask::x, y: z"), "100%25 done%0D%0A::add-mask::x, y: z"; got != want {
		t.Errorf("ghData = %q, want %q", got, want)
	}
	if got, want := ghProperty("prod/a: b,c%\n"), "prod/a%3A b%2Cc%25%0A"; got != want {
		t.Errorf("ghProperty = %q, want %q", got, want)
	}
	// %0A typed by a server stays literal text after decoding, not a newline.
	if got := ghData("%0A"); got != "%250A" {
		t.Errorf("ghData(%%0A) = %q", got)
	}
}

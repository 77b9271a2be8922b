package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/credmon/credmon/checks"
)

// Server text reaches the reports through detail and hint. Whatever it
// holds, the GitHub output stays one command per line, each one of ours,
// and the JUnit report stays well-formed XML.
func FuzzReports(f *testing.F) {
	for _, seed := range [][2]string{
		{"key not recognised", "rotate it"},
		{"50% done\r\n::add-mask::x", "a,b:c"},
		{"]]><!-- <x> &amp; \x00\x1b[31m", "\u2028\u202e"},
		{"%0A::error::injected", "\xff\xfe"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, detail, hint string) {
		rs := []checks.Result{
			{Env: "prod", Check: "a", Status: checks.StatusFail, Cause: checks.CauseInvalidToken, Detail: detail, Hint: hint,
				Findings: []checks.Finding{{Cause: checks.CauseMissingChallenge, Detail: hint, Hint: detail}}},
			{Env: "staging", Check: "b", Status: checks.StatusWarn, Cause: checks.CauseTokenExpiring, Detail: hint, Hint: detail},
		}
		var gh bytes.Buffer
		if err := writeGitHub(&gh, rs, nil); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(gh.String(), "\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "::error title=credmon prod/a%3A invalid_token::") ||
			!strings.HasPrefix(lines[1], "::warning title=credmon staging/b%3A token_expiring::") || !strings.HasPrefix(lines[2], "credmon: 2 checks") {
			t.Fatalf("github output is not two annotations and a summary:\n%q", gh.String())
		}
		if strings.ContainsRune(gh.String(), '\r') {
			t.Fatalf("a raw CR in the github output: %q", gh.String())
		}

		var ju bytes.Buffer
		if err := writeJUnit(&ju, rs); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&ju)
		for {
			_, err := dec.Token()
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("the JUnit report is not well-formed: %v\n%q", err, ju.String())
			}
		}
	})
}

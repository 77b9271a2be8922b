package config

import (
	"errors"
	"strings"
	"testing"
)

// TestSyntaxScanIgnoresLookalikes: brackets and quotes inside quoted
// strings, plain scalars, comments and block scalars do not move the
// position the scan reports for the real problem.
func TestSyntaxScanIgnoresLookalikes(t *testing.T) {
	src := strings.Join([]string{
		"# a comment with { and [ and \"",
		"environments:",
		"  prod:",
		"    checks:",
		"      - name: it's-fine",
		"        url: \"https://api.example.com/{id}\"",
		"        body: |",
		"          {\"unclosed\": [",
		"        headers: {Accept: 'text/plain, [x]', X-Note: \"a{b}\"",
		"        schedule: \"@every 1m\"",
		"",
	}, "\n")
	_, err := fakeEnv(nil).Parse("f.yaml", []byte(src))
	if !errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v", err)
	}
	want := `f.yaml:10:9: environments.prod.checks[0].headers: syntax error: the flow mapping opened with "{" at line 9 column 18 is not closed: expected "," or "}" before "schedule"`
	if err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestBlockPath(t *testing.T) {
	lines := splitLines([]byte("a:\n  b:\n    - x: 1\n    - y: 2\n      z:\n        w: 3\n  c: 4\n"))
	for n, want := range map[int]string{1: "a", 2: "a.b", 3: "a.b[0].x", 4: "a.b[1].y", 5: "a.b[1].z", 6: "a.b[1].z.w", 7: "a.c"} {
		if got := blockPath(lines, n); got != want {
			t.Errorf("line %d: %q, want %q", n, got, want)
		}
	}
}

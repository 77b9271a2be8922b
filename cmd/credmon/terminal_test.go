package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/web"
)

// hostile is what a malicious or compromised server may try to send to the
// terminal of whoever runs credmon: retitle the window (OSC … BEL), clear the
// screen, return the carriage to overwrite a line, reverse the text, and a
// one-rune C1 CSI.
const hostile = "\x1b]0;pwned\x07 \x1b[2J \r \u202e \u009b \x7f"

// headerSafe is the part of hostile that Go's HTTP client lets through in a
// header value: it refuses a line with C0 controls or DEL.
const headerSafe = "\u202e \u009b \xff"

// rawActive are the byte sequences that must never reach the terminal.
var rawActive = []string{"\x1b", "\x07", "\r", "\u202e", "\u009b", "\x7f", "\xff"}

// hostileAPI accepts only fakeLive and puts hostile text wherever a server
// can: /status in the reason phrase, challenge, a header and the body
// (written raw, past net/http's own header sanitising); /ctl in a
// WWW-Authenticate header the client refuses; /json in a value that the
// check's detail quotes.
func hostileAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeLive {
			t.Errorf("probe sent Authorization %q", r.Header.Get("Authorization"))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/status":
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			body := "line one " + hostile + "\nline two \xff\n"
			fmt.Fprintf(buf, "HTTP/1.1 401 Unauthorized %s\r\n", hostile)
			fmt.Fprintf(buf, "WWW-Authenticate: Bearer realm=\"x\", error=\"invalid_token\", error_description=\"%s\"\r\n", headerSafe)
			fmt.Fprintf(buf, "X-Hostile: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", headerSafe, len(body), body)
			_ = buf.Flush()
		case "/ctl":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+hostile+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok": "\u202e\u009b\u001b"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestServerTextIsInertOnTheTerminal(t *testing.T) {
	srv := hostileAPI(t)
	t.Setenv("CREDMON_TEST_GOOD_KEY", fakeLive)
	cfg := writeConfig(t, fmt.Sprintf(`
store: {driver: memory}
environments:
  prod:
    credentials:
      k: {type: api_key, secret: {env: CREDMON_TEST_GOOD_KEY}}
    checks:
      - {name: status, credential: k, url: "%[1]s/status"}
      - {name: ctl, credential: k, url: "%[1]s/ctl"}
      - {name: json, credential: k, url: "%[1]s/json", expect: {json: {ok: true}}}
`, srv.URL))
	outputs := map[string]cliResult{}
	for _, args := range [][]string{
		{"explain", "-config", cfg, "prod/status"},
		{"explain", "-config", cfg, "prod/ctl"},
		{"explain", "-config", cfg, "prod/json"},
		{"check", "-config", cfg},
		{"check", "-config", cfg, "-format", "json"},
	} {
		name := strings.Join(append(args[:1:1], args[3:]...), " ")
		r := runCLI(t, "", args...)
		if r.code != exitFailure {
			t.Fatalf("%s: exit %d, want 1\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		for _, raw := range rawActive {
			if strings.Contains(r.stdout, raw) || strings.Contains(r.stderr, raw) {
				t.Errorf("%s: output carries the raw %+q:\n%s%s", name, raw, r.stdout, r.stderr)
			}
		}
		outputs[name] = r
	}

	// The server's words are shown, escaped, where they were said.
	for name, wants := range map[string][]string{
		"explain prod/status": {
			`< 401 Unauthorized \x1b]0;pwned\x07 \x1b[2J \r \u202e \u009b \x7f`, // reason phrase
			`< X-Hostile: \u202e \u009b \xff`,                                   // a response header
			`< line one \x1b]0;pwned\x07 \x1b[2J \r \u202e`,                     // the body excerpt…
			"\n< line two \\xff\n",                                              // …keeps its lines
			`< Www-Authenticate: Bearer realm="x", error="invalid_token", error_description="\u202e \u009b \xff"`,
			`scheme=Bearer error="invalid_token" error_description="\u202e \u009b`, // the parsed challenge
			"cause   invalid_token",
		},
		"explain prod/ctl":   {"cause   unreachable", `error_description=\"\x1b]0;pwned\a`},
		"explain prod/json":  {"cause   unexpected_status", `\u202e\u009b\u001b`},
		"check":              {"prod/status invalid_token", "prod/json unexpected_status", `\u202e`},
		"check -format json": {`\u202e`},
	} {
		for _, want := range wants {
			if !strings.Contains(outputs[name].stdout, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, outputs[name].stdout)
			}
		}
	}

	// JSON stays JSON: escaping inside strings does not change the values.
	var results []struct{ Check, Detail string }
	if err := json.Unmarshal([]byte(outputs["check -format json"].stdout), &results); err != nil {
		t.Fatalf("json output: %v", err)
	}
	var jsonDetail string
	for _, r := range results {
		if r.Check == "json" {
			jsonDetail = r.Detail
		}
	}
	if !strings.Contains(jsonDetail, "\u202e\u009b") {
		t.Errorf("json detail %+q lost the server's value", jsonDetail)
	}
}

func TestInert(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, café, 日本":  "plain text, café, 日本",
		"a\tb\nc":               `a\tb\nc`,
		"\x1b[31mred\x1b[0m":    `\x1b[31mred\x1b[0m`,
		"\u2066iso\u2069\u200f": `\u2066iso\u2069\u200f`,
		"bad \xc3 byte":         `bad \xc3 byte`,
		"\ufffd stays":          "\ufffd stays",
	} {
		if got := inert(in); got != want {
			t.Errorf("inert(%q) = %q, want %q", in, got, want)
		}
	}
	if got := inertBlock("a\tb\nc\r\n"); got != "a\tb\nc\\r\n" {
		t.Errorf("inertBlock = %q", got)
	}
	if got := string(inertJSON([]byte("{\"d\": \"x\u202ey\u0085\"}\n"))); got != "{\"d\": \"x\\u202ey\\u0085\"}\n" {
		t.Errorf("inertJSON = %q", got)
	}
}

// status prints what a daemon answered over HTTP or a shared store holds:
// text that another process wrote is inert too.
func TestStatusTableIsInert(t *testing.T) {
	now := time.Now()
	var out strings.Builder
	printSnapshot(&out, &web.Snapshot{
		Instance:  "replica " + hostile,
		NotReady:  []string{"redis " + hostile},
		Problems:  []string{"history " + hostile},
		Checks:    []web.CheckStatus{{Env: "prod", Name: "x" + hostile, Last: &checks.Result{Status: checks.StatusFail, Cause: checks.Cause(hostile), Started: now}}},
		Incidents: []web.Incident{{Env: "prod", Subject: hostile, Cause: checks.CauseRevoked, Since: now}},
		Instances: []web.Instance{{ID: hostile, LastSeen: now}},
	}, now)
	for _, raw := range rawActive[:6] {
		if strings.Contains(out.String(), raw) {
			t.Errorf("status carries the raw %+q:\n%s", raw, out.String())
		}
	}
	if n := strings.Count(out.String(), `\x1b]0;pwned\x07`); n != 7 {
		t.Errorf("status shows the escaped text %d times, want 7:\n%s", n, out.String())
	}
}

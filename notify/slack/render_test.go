package slack

import (
	"encoding/json"
	"github.com/credmon/credmon/checks/duration"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
)

// blocksOf renders m and returns the blocks as Slack will parse them.
func blocksOf(t *testing.T, r rendering) []any {
	t.Helper()
	b, err := json.Marshal(r.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderOpened(t *testing.T) {
	r := render(opened())
	if want := "🔴 [prod] payments-account — invalid_token: The API answered 401"; !strings.HasPrefix(r.Text, want) {
		t.Errorf("fallback %q, want prefix %q", r.Text, want)
	}
	blocks := blocksOf(t, r)
	if typ := blocks[0].(map[string]any)["type"]; typ != "header" {
		t.Fatalf("first block %v", typ)
	}
	text := blockText(blocks)
	for _, want := range []string{
		"🔴 [prod] payments-account — invalid_token",
		"*Environment*\nprod",
		"*Check*\npayments-account",
		"payments-key\n`api_key Authorization: Bearer sk_live_…a1b2`",
		"*Cause*\n`invalid_token`",
		"*HTTP status*\n401",
		"*Since*\n<!date^1741944480^{date_short_pretty} {time}|2025-03-14 09:28 UTC>",
		`Bearer error="invalid_token", error_description="signature verification failed", realm="payments"`,
		"iss `https://auth.example.com/`",
		"aud `https://api.example.com`",
		"exp <!date^1741933800^{date_short_pretty} {time}|2025-03-14 06:30 UTC> (3h ago)",
		"`server_clock_skew` — The server's clock is 41s ahead of ours. _Fix: Check NTP on this host._",
		"*Fix*\nIssue a new key in the payments dashboard",
		"incident `prod/payments-account/auth`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if os.Getenv("SLACK_SAMPLE") != "" {
		b, _ := json.MarshalIndent(r.Blocks, "", "  ")
		t.Logf("text: %s\nblocks: %s", r.Text, b)
	}
}

func TestRenderEvents(t *testing.T) {
	cases := []struct {
		m    notify.Message
		want []string
		not  []string
	}{
		{followUp(notify.EventReminder, "2"), []string{"(still open)", "*Still open* for 4h 2m."}, nil},
		{followUp(notify.EventCauseChanged, "3"), []string{"token_expired (was invalid_token)", "*Cause changed* from `invalid_token` to `token_expired`"}, nil},
		{followUp(notify.EventResolved, "4"), []string{"✅ [prod] payments-account — RESOLVED (token_expired)", "*Resolved* after 4h 2m."}, []string{"*Fix*"}},
	}
	for _, c := range cases {
		text := blockText(blocksOf(t, render(c.m)))
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q:\n%s", c.m.Event, w, text)
			}
		}
		for _, w := range c.not {
			if strings.Contains(text, w) {
				t.Errorf("%s has %q", c.m.Event, w)
			}
		}
	}
}

// TestRenderEscapes: text from a remote server (challenge, detail) must not
// become a mention or a link.
func TestRenderEscapes(t *testing.T) {
	m := opened()
	m.Detail = "server said <!channel> & <https://evil.example|click here>"
	m.Hint = "<@U123> fix it"
	m.Challenge.Params["error_description"] = "<!here> ```break``` out"
	m.Findings[0].Detail = "<!everyone>"
	m.Identity = "bearer X-Key: `tok…a1b2`"
	r := render(m)
	text := blockText(blocksOf(t, r)) + r.Text
	for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<https://evil", "<@U123>", " & "} {
		if strings.Contains(text, bad) {
			t.Errorf("unescaped %q in message", bad)
		}
	}
	for _, want := range []string{"&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;", "&lt;@U123&gt;", "'''break'''", "`bearer X-Key: 'tok…a1b2'`"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q", want)
		}
	}
}

// TestRenderLimits: an enormous server answer still yields a payload
// Slack accepts.
func TestRenderLimits(t *testing.T) {
	m := opened()
	m.Check = strings.Repeat("very-long-check-name-", 20)
	m.Detail = strings.Repeat("a & b < c ", 1000)
	m.Hint = strings.Repeat("é", 5000)
	m.Identity = strings.Repeat("x", 3000)
	m.Challenge.Params["error_description"] = strings.Repeat("d", 5000)
	for i := 0; i < 200; i++ {
		m.Findings = append(m.Findings, checks.Finding{Cause: checks.CauseMissingChallenge, Detail: strings.Repeat("f", 100)})
	}
	r := render(m)
	if len(r.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(r.Blocks))
	}
	if n := utf8.RuneCountInString(r.Text); n > maxFallback {
		t.Errorf("fallback %d runes", n)
	}
	var check func(v any, limit int)
	check = func(v any, limit int) {
		switch x := v.(type) {
		case map[string]any:
			l := limit
			switch x["type"] {
			case "header":
				l = maxHeaderText
			case "section":
				l = maxSectionText
			}
			if s, ok := x["text"].(string); ok {
				if n := utf8.RuneCountInString(s); n > l {
					t.Errorf("text of %d runes > %d", n, l)
				}
				if strings.Count(s, "```")%2 != 0 {
					t.Errorf("unbalanced code block in %.80q…", s)
				}
				if i := strings.LastIndexByte(s, '&'); i >= 0 && !strings.Contains(s[i:], ";") {
					t.Errorf("entity cut in half: …%q", s[max(0, i-10):])
				}
			}
			if fs, ok := x["fields"].([]any); ok {
				if len(fs) > maxFields {
					t.Errorf("%d fields", len(fs))
				}
				for _, f := range fs {
					check(f, maxFieldText)
				}
			}
			for k, c := range x {
				if k != "fields" {
					check(c, l)
				}
			}
		case []any:
			for _, c := range x {
				check(c, limit)
			}
		}
	}
	check(blocksOf(t, r), maxSectionText)
}

func TestTruncate(t *testing.T) {
	cases := []struct{ in, want string }{
		{"short", "short"},
		{"abcdefg&amp;xyzxyz", "abcdefg…"},
		{"abcde&amp;xyzxyz", "abcde&amp;…"},
		{"abc <!date^1^{time}|x> tail", "abc …"},
		{"```code that goes on and on", "```code th…```"},
	}
	for _, c := range cases {
		if got := truncate(c.in, 14); got != c.want {
			t.Errorf("truncate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := truncatePlain("ééééé", 3); got != "éé…" {
		t.Errorf("truncatePlain = %q", got)
	}
}

func TestRelative(t *testing.T) {
	now := t0
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-3 * time.Hour, "3h ago"},
		{50 * time.Hour, "in 2d 2h"},
		{90 * time.Minute, "in 1h 30m"},
		{-30 * time.Second, "30s ago"},
		{7 * 24 * time.Hour, "in 7d"},
	}
	for _, c := range cases {
		if got := duration.Relative(now, now.Add(c.d)); got != c.want {
			t.Errorf("relative(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

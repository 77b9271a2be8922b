package slack

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack's Block Kit limits; a payload over any of them is rejected whole
// (invalid_blocks), which would lose the alert.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
	maxHeaderText  = 150
	maxContextText = 2000
	maxFallback    = 3000
)

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes the three characters Slack treats as control characters, so
// text from a remote server cannot ping <!channel> or forge a link.
func esc(s string) string { return mrkdwnEscaper.Replace(s) }

// code renders s as inline code; backticks inside would end the span early.
func code(s string) string {
	return "`" + esc(strings.ReplaceAll(s, "`", "'")) + "`"
}

// codeBlock renders s as a preformatted block.
func codeBlock(s string) string {
	return "```" + esc(strings.ReplaceAll(s, "```", "'''")) + "```"
}

// truncate shortens escaped mrkdwn to at most max runes, never cutting an
// entity (&amp;), a <!date…> token or a code block in half.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := s[:runeOffset(s, max-4)] // room for the ellipsis and a closing ```
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	if i := strings.LastIndexByte(cut, '<'); i >= 0 && !strings.Contains(cut[i:], ">") {
		cut = cut[:i]
	}
	cut += ellipsis
	if strings.Count(cut, "```")%2 == 1 {
		cut += "```"
	}
	return cut
}

// truncatePlain shortens plain text to at most max runes.
func truncatePlain(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return s[:runeOffset(s, max-1)] + "…"
}

// runeOffset is the byte offset of the n-th rune of s.
func runeOffset(s string, n int) int {
	if n <= 0 {
		return 0
	}
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}

// date renders t in each reader's own time zone; the fallback is what
// clients without date support (and notifications) show.
func date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>",
		t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

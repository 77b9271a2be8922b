package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// inert renders text for a terminal so that nothing in it acts: a server's
// error_description, header or body may carry escape sequences that retitle
// the window, clear the screen, rewrite earlier lines (CR) or reorder what is
// shown (bidi overrides). Such runes are written as visible Go-style escapes
// (\x1b, \r, \u202e) and invalid UTF-8 as \xNN; everything else, including
// non-ASCII text, is kept. A backslash already in s is left alone: the output
// need not be reversible, only inert.
func inert(s string) string {
	return inertText(s, false)
}

// inertBlock is inert for multi-line text such as a body excerpt: newlines
// and tabs stay real, everything else is escaped as inert does.
func inertBlock(s string) string {
	return inertText(s, true)
}

func inertText(s string, block bool) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return active(r, block) }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !active(r, block):
			b.WriteString(s[i : i+size])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// active reports whether a terminal may act on r rather than show it: C0
// controls (newline and tab are allowed in blocks), DEL, C1 controls (U+009B
// is a one-rune CSI), the line and paragraph separators and the bidi
// embedding, override and isolate controls.
func active(r rune, block bool) bool {
	switch {
	case block && (r == '\n' || r == '\t'):
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// inertJSON escapes, inside encoded JSON, the runes encoding/json leaves raw
// that a terminal may act on: DEL, C1 controls and bidi controls. They can
// only occur inside JSON strings, where \uXXXX means the same rune, so the
// document decodes to the same values.
func inertJSON(b []byte) []byte {
	s := string(b)
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x20 && active(r, false) }) {
		return b
	}
	var out strings.Builder
	out.Grow(len(s) + 16)
	for _, r := range s {
		if r >= 0x20 && active(r, false) {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return []byte(out.String())
}

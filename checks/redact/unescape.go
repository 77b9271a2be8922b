package redact

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// A server may echo a secret escaped in ways no fixed list of forms
// covers: every character percent-encoded, a JSON string of \u escapes, a
// quoted-string with a backslash before each character, HTML character
// references — or a mix. What it sends is matched a second time with
// those escapes undone (unescaped), and what matches there is masked in
// the text as sent.

// escapeStarts are the bytes an escape starts with; text without any is
// not unescaped.
const escapeStarts = "%\\&"

// unescaped is text with percent-encoding, backslash escapes (JSON's \u
// and \x, a quoted-string's \c) and HTML character references undone, one
// level deep. It returns ok false when text holds nothing to undo.
func unescaped(text string) (out string, ok bool) {
	if !strings.ContainsAny(text, escapeStarts) {
		return "", false
	}
	b := make([]byte, 0, len(text))
	walkUnescaped(text, func(_ int, p []byte) { b = append(b, p...) })
	return string(b), true
}

// unescapedFrom gives, for each byte of unescaped(text), the offset in
// text of the escape it came from, and len(text) last: where a match in
// the unescaped text is in text. Only asked for when something matched,
// so redacting large text costs one copy, not eight bytes a byte.
func unescapedFrom(text string) []int {
	from := make([]int, 0, len(text)+1)
	walkUnescaped(text, func(at int, p []byte) {
		for range p {
			from = append(from, at)
		}
	})
	return append(from, len(text))
}

// walkUnescaped calls emit with each piece of the unescaped text and the
// offset in text it starts at.
func walkUnescaped(text string, emit func(at int, p []byte)) {
	var enc [utf8.UTFMax]byte
	for i := 0; i < len(text); {
		r, n := unescapeAt(text, i)
		if n == 0 {
			enc[0] = text[i]
			emit(i, enc[:1])
			i++
			continue
		}
		emit(i, enc[:utf8.EncodeRune(enc[:], r)])
		i += n
	}
}

// unescapeAt decodes the escape at text[i], returning the character and
// the escape's length, or n 0 when none starts there. Percent escapes and
// \x are undone for ASCII bytes only: the secrets are ASCII, and a byte
// above it written back as UTF-8 would be another byte.
func unescapeAt(text string, i int) (r rune, n int) {
	rest := text[i:]
	switch rest[0] {
	case '%':
		if v, ok := hexValue(rest, 1, 2); ok && v < utf8.RuneSelf {
			return rune(v), 3
		}
	case '\\':
		if len(rest) < 2 {
			return 0, 0
		}
		switch rest[1] {
		case 'u':
			if v, ok := hexValue(rest, 2, 4); ok {
				return rune(v), 6
			}
		case 'x':
			if v, ok := hexValue(rest, 2, 2); ok && v < utf8.RuneSelf {
				return rune(v), 4
			}
		}
		// Otherwise a quoted-string's \c is c (JSON's \" \\ \/ too; its \n
		// is taken for an n, which a secret may hold, not for a newline).
		if c := rest[1]; c >= 0x20 && c < utf8.RuneSelf {
			return rune(c), 2
		}
	case '&':
		end := strings.IndexByte(rest, ';')
		if end < 2 || end > 10 {
			return 0, 0
		}
		ref := rest[1:end]
		if ref[0] == '#' {
			base, digits := 10, ref[1:]
			if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
				base, digits = 16, digits[1:]
			}
			v, err := strconv.ParseUint(digits, base, 32)
			if err != nil || v > utf8.MaxRune {
				return 0, 0
			}
			return rune(v), end + 1
		}
		switch ref {
		case "amp":
			return '&', end + 1
		case "lt":
			return '<', end + 1
		case "gt":
			return '>', end + 1
		case "quot":
			return '"', end + 1
		case "apos":
			return '\'', end + 1
		}
	}
	return 0, 0
}

// hexValue parses n hex digits of s from at.
func hexValue(s string, at, n int) (uint64, bool) {
	if len(s) < at+n {
		return 0, false
	}
	v, err := strconv.ParseUint(s[at:at+n], 16, 32)
	return v, err == nil
}

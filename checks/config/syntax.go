package config

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The YAML library reports a syntax error by one line only, and often the
// wrong one: an unclosed flow mapping is reported at the line where the
// enclosing mapping started, an unknown alias at no line at all. This file
// reads the source again, after the library refused it, to find the token
// that broke it — and where the construct it broke opened — and the field
// path of the block key above it.

// srcLine is one line of the source, split into indentation and content.
type srcLine struct {
	n      int    // 1-based
	indent int    // leading spaces
	text   string // the whole line, without its newline
}

func (l srcLine) blank() bool {
	t := strings.TrimSpace(l.text)
	return t == "" || strings.HasPrefix(t, "#")
}

func splitLines(data []byte) []srcLine {
	raw := bytes.Split(data, []byte("\n"))
	out := make([]srcLine, len(raw))
	for i, r := range raw {
		t := strings.TrimSuffix(string(r), "\r")
		out[i] = srcLine{n: i + 1, indent: len(t) - len(strings.TrimLeft(t, " ")), text: t}
	}
	return out
}

// flowProblem is what the scan found wrong with flow collections and
// quoted strings.
type flowProblem struct {
	kind     string // "unclosed", "mismatch", "quote"
	open     Pos    // the opening bracket or quote
	openChar byte
	at       Pos    // the offending token (for "quote" and "runaway", the opening quote)
	close    Pos    // for "runaway": the quote that closed it, lines later
	token    string // the offending token's text; "" at the end of the file
}

// scanFlow walks the source as a YAML lexer would, as far as brackets and
// quotes go: comments, quoted strings (escapes, multi-line), block scalars
// and plain scalars that merely contain a bracket or a quote are skipped.
func scanFlow(name string, lines []srcLine) *flowProblem {
	type open struct {
		pos    Pos
		c      byte
		indent int // indentation of the line the bracket opened on
	}
	var stack []open
	blockIndent := -1 // inside a block scalar: lines indented deeper belong to it
	var quote *open   // an unterminated quoted string carried across lines
	for _, l := range lines {
		if blockIndent >= 0 {
			if l.blank() || l.indent > blockIndent {
				continue
			}
			blockIndent = -1
		}
		if len(stack) > 0 && quote == nil && !l.blank() && l.indent <= stack[len(stack)-1].indent {
			// A flow collection continued on a later line must be indented
			// deeper than the block it sits in; this line is the block's
			// next entry, so the collection was never closed.
			top := stack[len(stack)-1]
			return &flowProblem{kind: "unclosed", open: top.pos, openChar: top.c,
				at: Pos{File: name, Line: l.n, Col: l.indent + 1}, token: tokenAt(l.text[l.indent:])}
		}
		s := l.text
		i := 0
		if quote != nil {
			i = endOfQuote(s, 0, quote.c)
			if i < 0 {
				continue
			}
			if rest := strings.TrimSpace(s[i:]); rest != "" && !strings.HasPrefix(rest, "#") && !strings.HasPrefix(rest, ",") &&
				!strings.HasPrefix(rest, "}") && !strings.HasPrefix(rest, "]") && !strings.HasPrefix(rest, ":") {
				// A quote closed lines later with more on its line: that
				// quote opened a value of its own, so the first was left
				// open (a string on several lines never ends like this).
				return &flowProblem{kind: "runaway", open: quote.pos, openChar: quote.c, at: quote.pos,
					close: Pos{File: name, Line: l.n, Col: i}}
			}
			quote = nil
		}
		for i < len(s) {
			c := s[i]
			switch {
			case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
				i = len(s)
				continue
			case (c == '"' || c == '\'') && tokenStart(s, i, len(stack) > 0):
				end := endOfQuote(s, i+1, c)
				if end < 0 {
					quote = &open{pos: Pos{File: name, Line: l.n, Col: i + 1}, c: c}
					i = len(s)
					continue
				}
				i = end
				continue
			case (c == '{' || c == '[') && (len(stack) > 0 || tokenStart(s, i, false)):
				// Inside a flow collection a bracket is always an indicator.
				stack = append(stack, open{pos: Pos{File: name, Line: l.n, Col: i + 1}, c: c, indent: l.indent})
			case (c == '}' || c == ']') && len(stack) > 0:
				top := stack[len(stack)-1]
				if want := closer(top.c); c != want {
					return &flowProblem{kind: "mismatch", open: top.pos, openChar: top.c,
						at: Pos{File: name, Line: l.n, Col: i + 1}, token: string(c)}
				}
				stack = stack[:len(stack)-1]
			case (c == '|' || c == '>') && len(stack) == 0 && tokenStart(s, i, false) && blockHeader(s[i+1:]):
				blockIndent = l.indent
				i = len(s)
				continue
			}
			i++
		}
	}
	if quote != nil {
		return &flowProblem{kind: "quote", open: quote.pos, openChar: quote.c, at: quote.pos}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		last := len(lines)
		for last > 1 && lines[last-1].blank() {
			last--
		}
		return &flowProblem{kind: "unclosed", open: top.pos, openChar: top.c,
			at: Pos{File: name, Line: last, Col: len(lines[last-1].text) + 1}}
	}
	return nil
}

// tokenStart reports whether s[i] begins a token (a quoted string or a
// flow collection) rather than sitting inside a plain scalar: what comes
// before it on the line is nothing, a "- " or ": " or "? " indicator, or,
// inside a flow collection, a bracket or a comma.
func tokenStart(s string, i int, inFlow bool) bool {
	j := i - 1
	for j >= 0 && (s[j] == ' ' || s[j] == '\t') {
		j--
	}
	if j < 0 {
		return true
	}
	switch s[j] {
	case ':', '-', '?':
		return j+1 < i // the indicator is followed by a space
	case '[', '{', ',':
		return inFlow || s[j] != ','
	}
	return false
}

func closer(c byte) byte {
	if c == '{' {
		return '}'
	}
	return ']'
}

// blockHeader reports whether what follows | or > is a block scalar header.
func blockHeader(rest string) bool {
	rest = strings.TrimLeft(rest, "+-0123456789")
	rest = strings.TrimSpace(rest)
	return rest == "" || strings.HasPrefix(rest, "#")
}

// endOfQuote returns the index after the closing quote c, searching from
// i, or -1 when the line ends first.
func endOfQuote(s string, i int, c byte) int {
	for ; i < len(s); i++ {
		switch {
		case c == '"' && s[i] == '\\':
			i++
		case s[i] == c && c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == c:
			return i + 1
		}
	}
	return -1
}

// tokenAt is the first word of s, for a message.
func tokenAt(s string) string {
	end := strings.IndexAny(s, " \t:,{}[]#")
	if end == 0 {
		end = 1
	}
	if end < 0 {
		end = len(s)
	}
	if end > 40 {
		end = 40
	}
	return s[:end]
}

// blockPath is the field path of the block key on line n: the keys of the
// lines above it that enclose it, with sequence items as [i].
func blockPath(lines []srcLine, n int) string {
	type level struct {
		indent int
		key    string
		seq    bool
		idx    int
	}
	var stack []level
	for _, l := range lines {
		if l.n > n {
			break
		}
		if l.blank() {
			continue
		}
		ind, rest := l.indent, l.text[l.indent:]
		for rest == "-" || strings.HasPrefix(rest, "- ") {
			for len(stack) > 0 && (stack[len(stack)-1].indent > ind || stack[len(stack)-1].indent == ind && !stack[len(stack)-1].seq) {
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 && stack[len(stack)-1].seq && stack[len(stack)-1].indent == ind {
				stack[len(stack)-1].idx++
			} else {
				stack = append(stack, level{indent: ind, seq: true})
			}
			after := strings.TrimLeft(rest[1:], " ")
			ind += len(rest) - len(after)
			rest = after
		}
		key, ok := blockKey(rest)
		if !ok {
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= ind && !(stack[len(stack)-1].seq && stack[len(stack)-1].indent < ind) {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent: ind, key: key})
	}
	var b strings.Builder
	for _, s := range stack {
		if s.seq {
			fmt.Fprintf(&b, "[%d]", s.idx)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

var blockKeyRE = regexp.MustCompile(`^("[^"]*"|'[^']*'|[^\s#:{}\[\],"'][^#:]*?)\s*:(\s|$)`)

// blockKey returns the key a block mapping line starts with.
func blockKey(rest string) (string, bool) {
	m := blockKeyRE.FindStringSubmatch(rest)
	if m == nil {
		return "", false
	}
	k := m[1]
	if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') {
		k = k[1 : len(k)-1]
	}
	return k, true
}

// locate turns the library's message into a positioned, explained error
// when the source shows what went wrong; ok is false when it does not.
func locate(name string, data []byte, msg string, libLine int) (*Error, bool) {
	lines := splitLines(data)
	switch {
	case strings.HasPrefix(msg, "did not find expected ',' or") || strings.Contains(msg, "unexpected end of stream") ||
		strings.HasPrefix(msg, "did not find expected node content") || strings.HasPrefix(msg, "found unknown escape character") ||
		strings.HasPrefix(msg, "did not find expected alphabetic or numeric character") || strings.HasPrefix(msg, "could not find expected ':'") ||
		strings.HasPrefix(msg, "found character that cannot start any token"):
		if p := scanFlow(name, lines); p != nil {
			return p.error(lines), true
		}
	case strings.HasPrefix(msg, "mapping values are not allowed"), strings.HasPrefix(msg, "did not find expected key"),
		strings.HasPrefix(msg, "block sequence entries are not allowed"):
		if e := badIndent(name, lines); e != nil {
			return e, true
		}
		if e := strayColon(name, lines, libLine); e != nil {
			return e, true
		}
	case strings.HasPrefix(msg, "unknown anchor"):
		if e := unknownAlias(name, lines, msg); e != nil {
			return e, true
		}
	}
	return nil, false
}

func (p *flowProblem) error(lines []srcLine) *Error {
	what := map[byte]string{'{': "flow mapping", '[': "flow sequence"}[p.openChar]
	oc, cc := string(p.openChar), string(closer(p.openChar))
	e := &Error{Pos: p.at, Path: blockPath(lines, p.open.Line), Err: ErrSyntax}
	switch p.kind {
	case "quote":
		e.Msg = fmt.Sprintf("syntax error: the quoted string opened here with %s is never closed", oc)
	case "runaway":
		e.Msg = fmt.Sprintf("syntax error: the quoted string opened here with %s is not closed on its line; it runs on to line %d column %d, where the next %s closes it", oc, p.close.Line, p.close.Col, oc)
	case "mismatch":
		e.Msg = fmt.Sprintf("syntax error: %q closes the %s opened with %q at line %d column %d; expected %q", p.token, what, oc, p.open.Line, p.open.Col, cc)
	case "unclosed":
		if p.token == "" {
			e.Msg = fmt.Sprintf("syntax error: the %s opened with %q at line %d column %d is not closed by the end of the file; expected %q", what, oc, p.open.Line, p.open.Col, cc)
		} else {
			e.Msg = fmt.Sprintf("syntax error: the %s opened with %q at line %d column %d is not closed: expected \",\" or %q before %q", what, oc, p.open.Line, p.open.Col, cc, p.token)
		}
	}
	return e
}

// badIndent finds the first line indented to a column its block does
// not allow: deeper than a key above it that already has a value, or back
// out to a column that no enclosing key uses.
func badIndent(name string, lines []srcLine) *Error {
	var indents []int // indentation of the open block levels
	for _, l := range lines {
		if l.blank() {
			continue
		}
		prev := previousContent(lines, l.n)
		if prev != nil && l.indent > keyIndent(*prev) && hasInlineValue(prev.text[keyIndent(*prev):]) {
			return &Error{Pos: Pos{File: name, Line: l.n, Col: l.indent + 1}, Path: blockPath(lines, prev.n), Err: ErrSyntax,
				Msg: fmt.Sprintf("syntax error: bad indentation: indented %d spaces, deeper than the key at line %d, which already has a value; indent it %d like that key if it is its sibling", l.indent, prev.n, keyIndent(*prev))}
		}
		for len(indents) > 0 && indents[len(indents)-1] > l.indent {
			indents = indents[:len(indents)-1]
		}
		if prev != nil && prev.indent > l.indent && len(indents) > 0 && indents[len(indents)-1] < l.indent {
			return &Error{Pos: Pos{File: name, Line: l.n, Col: l.indent + 1}, Err: ErrSyntax,
				Msg: fmt.Sprintf("syntax error: bad indentation: indented %d spaces, which matches no enclosing key (%s)", l.indent, indentList(indents, keyIndent(*prev)))}
		}
		if len(indents) == 0 || indents[len(indents)-1] < l.indent {
			indents = append(indents, l.indent)
		}
		if k := keyIndent(l); k > l.indent {
			indents = append(indents, k)
		}
	}
	return nil
}

// keyIndent is the column a line's key starts at: its indentation, past
// any "- " sequence indicators.
func keyIndent(l srcLine) int {
	ind, rest := l.indent, l.text[l.indent:]
	for strings.HasPrefix(rest, "- ") {
		after := strings.TrimLeft(rest[1:], " ")
		ind += len(rest) - len(after)
		rest = after
	}
	return ind
}

// hasInlineValue reports whether a block line is "key: value" with the
// value on the line (a line that can have no children).
func hasInlineValue(rest string) bool {
	if _, ok := blockKey(rest); !ok {
		return false
	}
	_, v, ok := strings.Cut(rest, ": ")
	v = strings.TrimSpace(v)
	return ok && v != "" && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "|") && !strings.HasPrefix(v, ">") &&
		!strings.HasPrefix(v, "&") && !strings.HasPrefix(v, "!")
}

// strayColon explains "mapping values are not allowed in this context"
// on a line whose indentation is fine: a second ": " in a plain value.
func strayColon(name string, lines []srcLine, n int) *Error {
	if n < 1 || n > len(lines) {
		return nil
	}
	l := lines[n-1]
	rest := l.text[l.indent:]
	first := strings.Index(rest, ": ")
	if first < 0 {
		return nil
	}
	second := strings.Index(rest[first+2:], ": ")
	if second < 0 {
		return nil
	}
	return &Error{Pos: Pos{File: name, Line: n, Col: l.indent + first + 2 + second + 1}, Path: blockPath(lines, n), Err: ErrSyntax,
		Msg: "syntax error: a second \": \" in a plain value; quote the value (\"…\") if the colon belongs to it"}
}

func indentList(indents []int, deeper int) string {
	parts := make([]string, 0, len(indents)+1)
	for _, i := range indents {
		parts = append(parts, strconv.Itoa(i))
	}
	parts = append(parts, strconv.Itoa(deeper))
	return "those above use " + strings.Join(parts, ", ")
}

func previousContent(lines []srcLine, n int) *srcLine {
	for i := n - 2; i >= 0; i-- {
		if !lines[i].blank() {
			return &lines[i]
		}
	}
	return nil
}

var unknownAnchorRE = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)

// unknownAlias finds the alias the library names without a position.
func unknownAlias(name string, lines []srcLine, msg string) *Error {
	m := unknownAnchorRE.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	alias := "*" + m[1]
	for _, l := range lines {
		i := strings.Index(l.text, alias)
		if i < 0 || !tokenStart(l.text, i, true) {
			continue
		}
		if c := strings.IndexByte(l.text, '#'); c >= 0 && c < i {
			continue
		}
		return &Error{Pos: Pos{File: name, Line: l.n, Col: i + 1}, Path: blockPath(lines, l.n), Err: ErrSyntax,
			Msg: fmt.Sprintf("syntax error: alias %s refers to no anchor; define &%s on a value above it (an alias only points backwards, within one file)", alias, m[1])}
	}
	return nil
}

// tabPath is the block a tab-indented line sits in, as far as the lines
// above say: the path of the line above, less its last key when that key
// has its value inline (it cannot be the tab line's parent).
func tabPath(lines []srcLine, n int) string {
	prev := previousContent(lines, n)
	if prev == nil {
		return ""
	}
	p := blockPath(lines, prev.n)
	if hasInlineValue(prev.text[prev.indent:]) {
		if i := strings.LastIndexAny(p, ".["); i >= 0 {
			return p[:i]
		}
		return ""
	}
	return p
}

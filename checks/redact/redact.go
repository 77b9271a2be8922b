// Package redact owns credmon's rule for secrets in output: no run of
// MinRun or more consecutive characters of any secret, in any of the forms
// it travels in and in any letter case, and no shorter secret whole,
// survives a pass through a Set. Letter case does not protect a secret:
// servers and parsers change it (HTTP header names are canonicalised,
// auth-param names lowercased), and a secret whose letters are known up to
// case is a small search away. Nor do escapes: text is matched as it is and
// again with percent, backslash and HTML escapes undone (unescape.go).
package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Mask replaces whatever is redacted.
const Mask = "<redacted>"

// MinRun is the shortest run of a secret's characters that is redacted
// wherever it appears; a secret shorter than this is redacted when it
// appears whole.
const MinRun = 12

// minWhole is the shortest secret redacted at all: masking every "abc" in
// a message would destroy the message and protect nothing (validate warns
// about such secrets instead).
const minWhole = 4

// anchorLen is the width of the windows a Set indexes. Every run of MinRun
// characters of a form contains a whole window starting at a multiple of
// anchorLen, so indexing those windows alone finds every run.
const anchorLen = MinRun / 2

// Set is the sensitive set of one owner (a credential, a check, a
// notifier): its secrets and their encoded forms, indexed for a scan that
// costs one table probe per character of text. A nil *Set redacts nothing.
// A Set is immutable and safe for concurrent use.
type Set struct {
	forms   []string         // every form of MinRun characters or more
	short   []string         // forms shorter than MinRun, matched whole
	anchors map[string][]ref // windows of forms at multiples of anchorLen
	filter  [filterWords]uint64
}

// filterWords sizes a bitmap over pairs of bytes that lets most text
// positions skip the map probe.
const filterWords = 16

type ref struct {
	form int // index into forms
	at   int // where the window starts in the form
}

// NewSet returns the set of secrets and the forms they are sent or echoed
// in: base64 (standard and URL alphabets, padded or not), URL query and
// path escaping, and JSON string escaping. Empty and duplicate values are
// ignored; values shorter than four characters are not redacted. With
// nothing to redact it returns nil (most checks send no secret of their
// own: an empty Set was 192 bytes each).
func NewSet(secrets ...string) *Set {
	s := &Set{}
	seen := map[string]bool{}
	add := func(f string) {
		if len(f) < minWhole || seen[f] {
			return
		}
		seen[f] = true
		if len(f) < MinRun {
			s.short = append(s.short, f)
			return
		}
		s.forms = append(s.forms, f)
	}
	for _, v := range secrets {
		if len(v) < minWhole {
			continue
		}
		for _, f := range Forms(v) {
			add(f)
		}
	}
	if len(s.forms) == 0 && len(s.short) == 0 {
		return nil // redacts nothing, as an empty Set would, in no memory
	}
	// Longer short forms first, so "abcdef" is masked before "abcd" could
	// leave "ef" behind.
	slices.SortFunc(s.short, func(a, b string) int { return len(b) - len(a) })
	if len(s.forms) > 0 {
		s.anchors = map[string][]ref{}
		for i, f := range s.forms {
			for at := 0; at+anchorLen <= len(f); at += anchorLen {
				var w [anchorLen]byte
				foldWindow(&w, f[at:])
				s.anchors[string(w[:])] = append(s.anchors[string(w[:])], ref{form: i, at: at})
				s.setFilter(w[0], w[1])
			}
		}
	}
	return s
}

// Forms lists v and the encodings it may travel or be echoed in.
func Forms(v string) []string {
	b := []byte(v)
	forms := []string{
		v,
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(v),
		url.PathEscape(v),
	}
	if j, err := json.Marshal(v); err == nil {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	return forms
}

// fold maps ASCII upper-case letters to lower case; matching compares
// folded bytes. Only ASCII: what changes a secret's case on the way (header
// canonicalisation, strings.ToLower of a name) keeps its length in bytes
// there, so the positions found are positions in the text.
func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldWindow fills w with the folded first anchorLen bytes of s.
func foldWindow(w *[anchorLen]byte, s string) {
	for i := range w {
		w[i] = fold(s[i])
	}
}

// indexFold is strings.Index with ASCII letters matched in either case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if foldEqual(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// foldEqual reports whether a and b (of one length) differ at most in the
// case of ASCII letters: strings.EqualFold also folds non-ASCII, whose
// folded forms may differ in length.
func foldEqual(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if fold(a[i]) != fold(b[i]) {
			return false
		}
	}
	return true
}

func filterBit(a, b byte) (word int, bit uint64) {
	h := (uint(a)*31 + uint(b)) % (filterWords * 64)
	return int(h / 64), 1 << (h % 64)
}

func (s *Set) setFilter(a, b byte) {
	w, bit := filterBit(a, b)
	s.filter[w] |= bit
}

func (s *Set) mayMatch(a, b byte) bool {
	w, bit := filterBit(a, b)
	return s.filter[w]&bit != 0
}

// Empty reports whether the set redacts nothing.
func (s *Set) Empty() bool { return s == nil || len(s.forms) == 0 && len(s.short) == 0 }

// String returns text with every run of MinRun characters of any form, and
// every shorter form whole, replaced by Mask.
func (s *Set) String(text string) string { return String(text, s) }

// Contains reports whether text holds anything s would redact.
func (s *Set) Contains(text string) bool {
	return len(collect(text, []*Set{s})) > 0
}

// String redacts text against every set at once.
func String(text string, sets ...*Set) string {
	spans := collect(text, sets)
	if len(spans) == 0 {
		return text
	}
	return apply(text, spans)
}

// collect returns the ranges of text that sets would mask: what matches
// in text as it is, and what matches once its escapes are undone
// (unescape.go), as the ranges of text those escapes were.
func collect(text string, sets []*Set) []span {
	var out []span
	some := false
	for _, s := range sets {
		if !s.Empty() {
			out, some = s.spans(text, out), true
		}
	}
	if !some {
		return nil
	}
	if u, ok := unescaped(text); ok {
		var us []span
		for _, s := range sets {
			us = s.spans(u, us)
		}
		if len(us) > 0 {
			from := unescapedFrom(text)
			for _, sp := range us {
				out = append(out, span{from[sp.from], from[sp.to]})
			}
		}
	}
	return out
}

// Strings redacts every element of texts in place against sets.
func Strings(texts []string, sets ...*Set) {
	for i := range texts {
		texts[i] = String(texts[i], sets...)
	}
}

// span is a half-open byte range of text to mask.
type span struct{ from, to int }

// spans appends the ranges of text that s would mask.
func (s *Set) spans(text string, out []span) []span {
	if s.Empty() {
		return out
	}
	for _, f := range s.short {
		for off := 0; ; {
			i := indexFold(text[off:], f)
			if i < 0 {
				break
			}
			out = append(out, span{off + i, off + i + len(f)})
			off += i + len(f)
		}
	}
	if len(s.anchors) == 0 {
		return out
	}
	// cover is the last span found: a window wholly inside it, with room
	// for a run on either side, cannot reveal anything new.
	cover := span{-1, -1}
	var w [anchorLen]byte
	for i := 0; i+anchorLen <= len(text); i++ {
		if !s.mayMatch(fold(text[i]), fold(text[i+1])) {
			continue
		}
		if cover.from <= i-anchorLen && i+MinRun <= cover.to {
			continue
		}
		foldWindow(&w, text[i:])
		refs, ok := s.anchors[string(w[:])]
		if !ok {
			continue
		}
		for _, r := range refs {
			f := s.forms[r.form]
			left := 0
			for i-left > 0 && r.at-left > 0 && fold(text[i-left-1]) == fold(f[r.at-left-1]) {
				left++
			}
			right := 0
			for i+anchorLen+right < len(text) && r.at+anchorLen+right < len(f) && fold(text[i+anchorLen+right]) == fold(f[r.at+anchorLen+right]) {
				right++
			}
			if left+anchorLen+right >= MinRun {
				sp := span{i - left, i + anchorLen + right}
				out = append(out, sp)
				if sp.to > cover.to {
					cover = sp
				}
			}
		}
	}
	return out
}

// apply replaces the union of spans with one Mask per connected range.
func apply(text string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	b.Grow(len(text))
	pos := 0
	for i := 0; i < len(spans); {
		from, to := spans[i].from, spans[i].to
		for i++; i < len(spans) && spans[i].from <= to; i++ {
			to = max(to, spans[i].to)
		}
		if from < pos {
			from = pos
		}
		b.WriteString(text[pos:from])
		b.WriteString(Mask)
		pos = to
	}
	b.WriteString(text[pos:])
	return b.String()
}

// Excerpt is server text as an error or message may keep it: sets
// redacted first (a secret cut in half would no longer match), then
// trimmed and cut to at most n bytes on a character boundary, "…" marking
// the cut.
func Excerpt(text string, n int, sets ...*Set) string {
	s := strings.TrimSpace(String(text, sets...))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

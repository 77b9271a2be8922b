package challenge

import "strings"

// parser reads header values into challenges. The grammar (RFC 9110 §11.6.1):
//
//	WWW-Authenticate = #challenge
//	challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param  = token BWS "=" BWS ( token / quoted-string )
//
// Commas separate both challenges and the params of one challenge, so an
// element is a param when its token is followed by "=", and a new challenge
// otherwise. Every step consumes input, so hostile values cannot loop it.
type parser struct {
	out    []Challenge
	budget int  // header bytes still to read
	capped bool // MaxChallenges reached: the rest is ignored
}

func (p *parser) parseValue(s string) {
	cur := -1 // index of the challenge params attach to; -1 before a scheme or after a token68
	i := 0
	for i < len(s) {
		i = skipSeparators(s, i)
		if i >= len(s) {
			return
		}
		if !isTchar(s[i]) {
			i = skipElement(s, i)
			continue
		}
		name, j := readToken(s, i)
		if k := skipOWS(s, j); k < len(s) && s[k] == '=' {
			val, next, ok := readValue(s, skipOWS(s, k+1))
			if ok && cur >= 0 {
				p.out[cur].add(name, val)
			}
			i = next
			if !ok {
				i = skipElement(s, next)
			}
			continue
		}
		if j < len(s) && !isOWS(s[j]) && s[j] != ',' {
			// "Bäsic" or "Bearer\x00": not a scheme, and half of one would mislead.
			i = skipElement(s, j)
			continue
		}
		if len(p.out) >= MaxChallenges {
			p.capped = true
			return
		}
		p.out = append(p.out, Challenge{Scheme: name})
		cur = len(p.out) - 1
		i = j
		// A token68 is the only thing after the scheme and must be followed
		// by the end or a comma; otherwise what follows is auth-params.
		if i < len(s) && isOWS(s[i]) {
			if tok, end, ok := readToken68(s, skipOWS(s, i)); ok {
				p.out[cur].Token68 = tok
				cur = -1
				i = end
			}
		}
	}
}

// add records an auth-param. RFC 9110 says a name occurs once per
// challenge; when a server repeats one, the first wins.
func (c *Challenge) add(name, val string) {
	name = strings.ToLower(name)
	if _, dup := c.Params[name]; dup || len(c.Params) >= MaxParams {
		return
	}
	if c.Params == nil {
		c.Params = make(map[string]string)
	}
	c.Params[name] = val
	switch name {
	case "realm":
		c.Realm = val
	case "error":
		c.Error = val
	case "error_description":
		c.ErrorDescription = val
	case "scope":
		c.Scope = val
	}
}

// readValue reads a token or a quoted-string. Unquoted values are read
// leniently up to whitespace or a comma, because servers send things like
// realm=https://api.example.com/ that are not strict tokens.
func readValue(s string, i int) (val string, next int, ok bool) {
	if i >= len(s) {
		return "", i, false
	}
	if s[i] == '"' {
		val, next = readQuoted(s, i)
		return val, next, true
	}
	j := i
	for j < len(s) && !isOWS(s[j]) && s[j] != ',' && s[j] != '"' && !isCTL(s[j]) {
		j++
	}
	if j == i {
		return "", i, false
	}
	return strings.ToValidUTF8(s[i:j], "\uFFFD"), j, true
}

// readQuoted reads a quoted-string starting at s[i] == '"', undoing
// backslash escapes. Control bytes are dropped so that a hostile value
// cannot reach a terminal or a Slack message. An unterminated string runs to
// the end: a truncated error_description is still worth showing.
func readQuoted(s string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return strings.ToValidUTF8(b.String(), "\uFFFD"), i + 1
		case c == '\\' && i+1 < len(s):
			i++
			c = s[i]
		case c == '\\':
			continue
		}
		switch {
		case c == '\t':
			b.WriteByte(' ')
		case isCTL(c):
		default:
			b.WriteByte(c)
		}
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD"), i
}

// readToken68 reads `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
// and accepts it only when the element ends there.
func readToken68(s string, i int) (tok string, next int, ok bool) {
	j := i
	for j < len(s) && isToken68(s[j]) {
		j++
	}
	if j == i {
		return "", i, false
	}
	for j < len(s) && s[j] == '=' {
		j++
	}
	k := skipOWS(s, j)
	if k < len(s) && s[k] != ',' {
		return "", i, false
	}
	// `Bearer realm=, error="invalid_token"` is a param list with an empty
	// value, not a token68: a param after the comma gives it away.
	if k < len(s) {
		k = skipSeparators(s, k)
		_, t := readToken(s, k)
		if t > k {
			if e := skipOWS(s, t); e < len(s) && s[e] == '=' {
				return "", i, false
			}
		}
	}
	return s[i:j], j, true
}

func readToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && isTchar(s[j]) {
		j++
	}
	return s[i:j], j
}

// skipElement moves to the next comma outside a quoted-string, dropping a
// list element that cannot be parsed.
func skipElement(s string, i int) int {
	for i < len(s) && s[i] != ',' {
		if s[i] == '"' {
			_, i = readQuoted(s, i)
			continue
		}
		i++
	}
	return i
}

// skipSeparators skips OWS and commas: empty list elements are allowed.
func skipSeparators(s string, i int) int {
	for i < len(s) && (isOWS(s[i]) || s[i] == ',') {
		i++
	}
	return i
}

func skipOWS(s string, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func isCTL(c byte) bool { return c < 0x20 || c == 0x7f }

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

package config

import (
	"fmt"
	"strings"
)

// interpError is an interpolation failure; the decoder adds the position.
type interpError struct {
	msg      string
	sentinel error
}

// interpolate expands ${VAR} and ${VAR:-default} in config text; $$ is a
// literal dollar and any other $ stays as written. An unset variable
// without a default is an error: for a credential, "" is the worst
// possible silent fallback. Like the shell, :- also replaces a variable
// that is set but empty.
func interpolate(s string, lookup func(string) (string, bool)) (string, *interpError) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", &interpError{msg: "unterminated ${ (write $$ for a literal dollar)", sentinel: ErrInvalid}
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !envNameRE.MatchString(name) {
				// Not echoed: the text may be part of a literal secret.
				return "", &interpError{msg: "invalid variable name in ${...} (use letters, digits and _; write $$ for a literal dollar)", sentinel: ErrInvalid}
			}
			val, ok := lookup(name)
			switch {
			case hasDef && (!ok || val == ""):
				val = def
			case !ok:
				return "", &interpError{
					msg:      fmt.Sprintf("environment variable %s is not set (write ${%s:-default} for a default)", name, name),
					sentinel: ErrUnsetVar,
				}
			}
			b.WriteString(val)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

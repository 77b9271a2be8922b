package config

import (
	"errors"
	"fmt"
)

// Pos is a place in a config file.
type Pos struct {
	File string
	Line int
	Col  int
}

// String prints FILE:LINE:COL, dropping what is unknown (the YAML parser
// reports syntax errors by line only).
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Sentinel errors wrapped by *Error, for errors.Is.
var (
	ErrSyntax       = errors.New("syntax error")
	ErrUnknownField = errors.New("unknown field")
	ErrInvalid      = errors.New("invalid value")
	ErrRequired     = errors.New("required field missing")
	ErrUnsetVar     = errors.New("unset variable")
	ErrDuplicate    = errors.New("duplicate name")
	ErrReference    = errors.New("unknown reference")
	// ErrHygiene marks warnings: a literal secret, a secret file ending in
	// a newline. They never stop loading.
	ErrHygiene = errors.New("secret hygiene")
	// ErrInsecure marks warnings about a setting that exposes a credential
	// in transit, such as tls.insecure_skip_verify. They never stop loading.
	ErrInsecure = errors.New("insecure setting")
)

// Error is one configuration problem, printed as
// "FILE:LINE:COL: field.path: message".
type Error struct {
	Pos  Pos
	Path string // e.g. environments.prod.checks[2].url
	Msg  string
	Err  error // sentinel
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Path, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

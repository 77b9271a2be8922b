package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// SecretSource says where a secret's value comes from.
type SecretSource int

// Secret sources.
const (
	SourceNone SecretSource = iota
	SourceLiteral
	SourceEnv
	SourceFile
	SourceStore // a secret store: AWS Secrets Manager, ...
)

func (s SecretSource) String() string {
	switch s {
	case SourceLiteral:
		return "literal"
	case SourceEnv:
		return "env"
	case SourceFile:
		return "file"
	case SourceStore:
		return "store"
	}
	return "none"
}

// ErrSecretUnresolved is wrapped by every error of Secret.Resolve.
var ErrSecretUnresolved = errors.New("secret cannot be resolved")

// Secret is a reference to a secret value: {env: NAME}, {file: PATH}, a
// secret store ({aws_secretsmanager: {...}}) or a literal string. It prints as <secret> and never marshals its value, so a
// Secret can go into logs and errors safely.
type Secret struct {
	Source SecretSource
	Ref    string // the variable name, file path or store secret; empty for literals
	Pos    Pos    // where it was written
	// Stage is the version of a store secret it stands for.
	Stage Stage

	literal string
	// lookupEnv reads an env secret's variable: LoadOptions.LookupEnv for a
	// loaded config, nil (os.LookupEnv) otherwise.
	lookupEnv func(string) (string, bool)
	// store is a store secret's shared cache.
	store *storeCache
	// none is `previous: none`: no previous key, not even the store's.
	none bool
}

// Literal returns a literal secret; for tests and the demo.
func Literal(v string) Secret { return Secret{Source: SourceLiteral, literal: v} }

// Provided returns a secret handed to credmon at run time rather than
// configured (`credmon verify`'s candidate); where describes it.
func Provided(v, where string) Secret { return Secret{Source: SourceLiteral, Ref: where, literal: v} }

// FromEnv returns a secret read from an environment variable.
func FromEnv(name string) Secret { return Secret{Source: SourceEnv, Ref: name} }

// FromFile returns a secret read from a file.
func FromFile(path string) Secret { return Secret{Source: SourceFile, Ref: path} }

// IsSet reports whether the secret was configured at all.
func (s Secret) IsSet() bool { return s.Source != SourceNone }

// IsNone reports whether the secret was written as `none`: deliberately
// absent (`previous: none` opts out of a store's previous version).
func (s Secret) IsNone() bool { return s.none }

// String never reveals the value.
func (s Secret) String() string { return "<secret>" }

// GoString never reveals the value, even under %#v.
func (s Secret) GoString() string { return "<secret>" }

// MarshalJSON never reveals the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"<secret>"`), nil }

// MarshalYAML never reveals the value.
func (s Secret) MarshalYAML() (any, error) { return "<secret>", nil }

// Describe names where the secret comes from, without its value:
// "env PROD_KEY", "file /run/secrets/key" or "literal in config".
func (s Secret) Describe() string {
	switch s.Source {
	case SourceEnv, SourceFile:
		return s.Source.String() + " " + s.Ref
	}
	if s.Source == SourceLiteral {
		if s.Ref != "" {
			return s.Ref
		}
		return "literal in config"
	}
	if s.Source == SourceStore {
		if s.Stage != StageCurrent {
			return s.Ref + " (" + s.Stage.String() + " version)"
		}
		return s.Ref
	}
	return s.Source.String()
}

// Value is a resolved secret. Text is the secret itself: never log it.
type Value struct {
	Text   string
	Source SecretSource
	Ref    string
	// StrippedNewline is true when a file secret ended in a newline that was
	// removed; a hygiene warning, since other consumers may not strip it.
	StrippedNewline bool
	// Stage, Version and Absent describe a store secret's value: the stage
	// read, the store's version id (not secret), and whether the store has
	// no version at that stage (Text is then "").
	Stage   Stage
	Version string
	Absent  bool
}

// Resolve reads the secret's value now; a variable through the
// LoadOptions.LookupEnv the config was loaded with. Files are re-read on
// every call so a rotated secret file is picked up without a restart. An
// unset env var is an error; a set but empty one resolves to "" (the caller
// reports missing_credential). A store secret is read from its in-memory
// cache, which reads the store every refresh_every.
func (s Secret) Resolve() (Value, error) { return s.ResolveContext(context.Background()) }

// ResolveContext is Resolve bounded by ctx (a store read is a request).
func (s Secret) ResolveContext(ctx context.Context) (Value, error) {
	v := Value{Source: s.Source, Ref: s.Ref}
	switch s.Source {
	case SourceStore:
		return s.resolveStore(ctx)
	case SourceNone:
		return v, nil
	case SourceLiteral:
		v.Text = s.literal
	case SourceEnv:
		lookup := s.lookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		text, ok := lookup(s.Ref)
		if !ok {
			return v, fmt.Errorf("%w: environment variable %s is not set", ErrSecretUnresolved, s.Ref)
		}
		v.Text = text
	case SourceFile:
		b, err := readSecretFile(s.Ref)
		if err != nil {
			return v, err
		}
		text := string(b)
		if t := strings.TrimRight(text, "\r\n"); t != text {
			v.StrippedNewline = true
			text = t
		}
		v.Text = text
	}
	return v, nil
}

// MaxSecretFile is the largest {file:} secret credmon reads: keys, tokens
// and passwords are far smaller, and a limit keeps a wrong path (a log, a
// disk image) from being read into memory.
const MaxSecretFile = 64 << 10

// readSecretFile reads a regular file of at most MaxSecretFile bytes. The
// path is checked before it is opened, because opening a FIFO blocks until
// a writer comes, and the opened file again, in case the path changed in
// between. Errors name the path, never content.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSecretUnresolved, err)
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSecretUnresolved, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSecretUnresolved, err)
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSecretUnresolved, err)
	}
	if len(b) > MaxSecretFile {
		return nil, fmt.Errorf("%w: secret file %s is larger than the %d KiB limit for secrets (is the path right?)", ErrSecretUnresolved, path, MaxSecretFile>>10)
	}
	return b, nil
}

// regular refuses anything but a regular file, saying what it is.
func regular(path string, fi os.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		what = "a socket"
	case m&os.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("%w: secret file %s is %s; a secret file must be a regular file", ErrSecretUnresolved, path, what)
}

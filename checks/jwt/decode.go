// Package jwt decodes JWTs for diagnosis, never trusting them: it reads the
// header and claims of a compact JWS and verifies nothing.
package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
)

// MaxTokenBytes is the largest token Decode reads; real tokens are a few KiB.
const MaxTokenBytes = 64 << 10

// Sentinel errors, for errors.Is. No error of this package contains any part
// of the token: a token in a log line is a leaked credential.
var (
	ErrNotJWT    = errors.New("jwt: not a JWT")
	ErrMalformed = errors.New("jwt: malformed")
	ErrEncrypted = errors.New("jwt: encrypted (JWE); its claims cannot be read without the key")
)

// DecodeError says which part of a token is wrong and how, in fixed words.
type DecodeError struct {
	Part   string // "token", "header", "payload" or "signature"
	Reason string
	Err    error // ErrNotJWT or ErrMalformed
}

func (e *DecodeError) Error() string { return e.Err.Error() + ": " + e.Part + ": " + e.Reason }

func (e *DecodeError) Unwrap() error { return e.Err }

func notJWT(part, reason string) error {
	return &DecodeError{Part: part, Reason: reason, Err: ErrNotJWT}
}

func malformed(part, reason string) error {
	return &DecodeError{Part: part, Reason: reason, Err: ErrMalformed}
}

// Header is the JOSE header of a token.
type Header struct {
	Alg    string         // signing algorithm; "none" means unsigned
	Kid    string         // key id
	Typ    string         // e.g. "JWT", "at+jwt"
	Enc    string         // content encryption, JWE only
	Params map[string]any // every header parameter, numbers as json.Number
}

// Token is a decoded, unverified JWT. The typed fields are read from Claims
// leniently; what could not be read is explained in Warnings.
type Token struct {
	Header Header
	Claims map[string]any // numbers as json.Number, so large NumericDates stay exact

	Issuer    string
	Subject   string
	Audience  []string // "aud" may be a string or an array; both end up here
	Scope     string   // "scope", or "scp" joined with spaces
	ExpiresAt *time.Time
	IssuedAt  *time.Time
	NotBefore *time.Time

	Unsigned  bool     // alg "none": nothing vouches for these claims
	Encrypted bool     // a JWE: only Header is set
	Warnings  []string // problems that did not stop decoding, in fixed words
}

// Decode reads a compact JWS. Surrounding whitespace is trimmed and
// reported as a warning, since a newline in a pasted or mounted secret is a
// common cause of rejected tokens. For a five-part JWE it returns a Token with
// only the header set, Encrypted true, and ErrEncrypted. Any other error
// comes with a nil Token.
func Decode(token string) (*Token, error) {
	if len(token) > MaxTokenBytes {
		return nil, malformed("token", "longer than 64 KiB")
	}
	var warnings []string
	if trimmed := strings.TrimSpace(token); trimmed != token {
		token = trimmed
		warnings = append(warnings, "token has surrounding whitespace (a trailing newline in the secret?)")
	}
	if token == "" {
		return nil, notJWT("token", "empty")
	}
	parts := strings.Split(token, ".")
	switch len(parts) {
	case 3:
	case 5:
		return decodeJWE(parts[0])
	default:
		return nil, notJWT("token", "not three dot-separated parts")
	}

	hdr, err := decodeHeader(parts[0])
	if err != nil {
		return nil, err
	}
	payload, err := decodePart(parts[1])
	if err != nil {
		return nil, malformed("payload", "not base64url")
	}
	claims, ok := decodeObject(payload)
	if !ok {
		return nil, malformed("payload", "not a JSON object")
	}
	if _, err := decodePart(parts[2]); err != nil {
		return nil, malformed("signature", "not base64url")
	}

	t := &Token{Header: hdr, Claims: claims, Warnings: warnings}
	switch {
	case hdr.Alg == "":
		t.Warnings = append(t.Warnings, `header "alg" is missing or not a string`)
	case strings.EqualFold(hdr.Alg, "none"):
		t.Unsigned = true
		t.Warnings = append(t.Warnings, `alg is "none": the token is unsigned and must never be accepted`)
	}
	if parts[2] == "" && !t.Unsigned {
		t.Warnings = append(t.Warnings, "signature is empty")
	}
	t.readClaims()
	return t, nil
}

// LooksLikeJWT is a cheap test for whether a credential is a JWT: three
// base64url parts whose first decodes to a JSON object with "alg". It does
// not trim: a value with whitespace is not a well-formed JWT.
func LooksLikeJWT(s string) bool {
	if len(s) > MaxTokenBytes || strings.Count(s, ".") != 2 {
		return false
	}
	h, rest, _ := strings.Cut(s, ".")
	p, sig, _ := strings.Cut(rest, ".")
	if h == "" || p == "" || !isBase64URL(h) || !isBase64URL(p) || !isBase64URL(sig) {
		return false
	}
	raw, err := decodePart(h)
	if err != nil {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m["alg"]
	return ok
}

func decodeHeader(part string) (Header, error) {
	raw, err := decodePart(part)
	if err != nil {
		return Header{}, notJWT("header", "not base64url")
	}
	params, ok := decodeObject(raw)
	if !ok {
		return Header{}, notJWT("header", "not a JSON object")
	}
	h := Header{Params: params}
	h.Alg, _ = params["alg"].(string)
	h.Kid, _ = params["kid"].(string)
	h.Typ, _ = params["typ"].(string)
	h.Enc, _ = params["enc"].(string)
	return h, nil
}

// decodeJWE reads only the protected header of a JWE: the rest is ciphertext.
func decodeJWE(header string) (*Token, error) {
	hdr, err := decodeHeader(header)
	if err != nil {
		return nil, err
	}
	return &Token{Header: hdr, Encrypted: true}, ErrEncrypted
}

// decodePart decodes base64url with or without padding.
func decodePart(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func isBase64URL(s string) bool {
	s = strings.TrimRight(s, "=")
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// decodeObject decodes a JSON object with numbers kept as json.Number.
// Trailing data after the object makes it invalid.
func decodeObject(b []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || m == nil {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	return m, true
}

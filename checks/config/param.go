package config

import (
	"encoding/json"
	"net/url"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Param is a value a check sends — a header, a query parameter, a body:
// text written in the config, or a secret reference ({env: NAME},
// {file: PATH}) read at every probe. Whatever a secret reference or a
// ${VAR} puts into a request joins the check's sensitive set.
type Param struct {
	Text   string // the value, when written in the config
	Secret Secret // set when the value is a secret reference
}

// Text returns a Param written in the config.
func Text(s string) Param { return Param{Text: s} }

// IsSecret reports whether the value is a secret reference.
func (p Param) IsSecret() bool { return p.Secret.IsSet() }

// IsSet reports whether there is a value at all.
func (p Param) IsSet() bool { return p.Text != "" || p.Secret.IsSet() }

// Resolve returns the value to send now.
func (p Param) Resolve() (string, error) {
	if !p.Secret.IsSet() {
		return p.Text, nil
	}
	v, err := p.Secret.Resolve()
	return v.Text, err
}

// MarshalJSON shows text and hides secret references.
func (p Param) MarshalJSON() ([]byte, error) {
	if p.Secret.IsSet() {
		return p.Secret.MarshalJSON()
	}
	return json.Marshal(p.Text)
}

// String shows text and hides secret references.
func (p Param) String() string {
	if p.Secret.IsSet() {
		return p.Secret.String()
	}
	return p.Text
}

var paramType = reflect.TypeOf(Param{})

// requestField matches the paths of what a check sends, whose ${VAR}
// values are sensitive.
var requestField = regexp.MustCompile(`^environments\.[^.]+\.checks\[\d+\]\.(url|body|headers\..+|query\..+)$`)

// param decodes a Param: a scalar is text (interpolated), a mapping a
// secret reference.
func (d *decoder) param(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.MappingNode {
		var s Secret
		d.secret(n, reflect.ValueOf(&s).Elem(), path)
		v.Set(reflect.ValueOf(Param{Secret: s}))
		return
	}
	if s, ok := d.scalar(n, path); ok {
		v.Set(reflect.ValueOf(Param{Text: s}))
	}
}

// requestSecrets keeps the ${VAR} values of a check's request that are
// secrets for all credmon knows: a value that only names the url's host is
// not one — hiding it would hide where a failing request went, and it
// would put a plain health check behind the https rule.
func requestSecrets(rawURL string, values []string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return values
	}
	rest := strings.Replace(rawURL, u.Host, "", 1)
	out := values[:0:0]
	for _, v := range values {
		if strings.Contains(u.Host, v) && !strings.Contains(rest, v) {
			continue
		}
		out = append(out, v)
	}
	return out
}

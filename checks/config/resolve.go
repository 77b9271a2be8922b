package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// secretRef is one configured secret and the path it was written at.
type secretRef struct {
	path   string
	secret Secret
	// check, when set, judges the resolved value and says what is wrong
	// with it, without echoing it.
	check func(string) string
}

// secrets lists every configured secret in a stable order.
func (c *Config) secrets() []secretRef {
	var out []secretRef
	add := func(path string, s Secret) {
		if s.IsSet() {
			out = append(out, secretRef{path: path, secret: s})
		}
	}
	addWebhook := func(path string, s Secret) {
		if s.IsSet() {
			out = append(out, secretRef{path: path, secret: s, check: webhookURLProblem})
		}
	}
	add("store.encryption_key", c.Store.EncryptionKey)
	add("store.fingerprint_key", c.Store.FingerprintKey)
	add("store.redis.password", c.Store.Redis.Password)
	if s := c.Notify.Slack; s != nil {
		addWebhook("notify.slack.webhook_url", s.WebhookURL)
		add("notify.slack.bot_token", s.BotToken)
	}
	if p := c.Notify.PagerDuty; p != nil {
		add("notify.pagerduty.routing_key", p.RoutingKey)
	}
	if w := c.Notify.Webhook; w != nil {
		add("notify.webhook.secret", w.Secret)
	}
	envs := make([]string, 0, len(c.Environments))
	for name := range c.Environments {
		envs = append(envs, name)
	}
	sort.Strings(envs)
	for _, en := range envs {
		env := c.Environments[en]
		if env.Slack != nil {
			addWebhook("environments."+en+".slack.webhook_url", env.Slack.WebhookURL)
		}
		names := make([]string, 0, len(env.Credentials))
		for cn := range env.Credentials {
			names = append(names, cn)
		}
		sort.Strings(names)
		for _, cn := range names {
			cr := env.Credentials[cn]
			if cr == nil {
				continue
			}
			p := credPath(en, cn)
			add(p+".secret", cr.Secret)
			add(p+".previous", cr.Previous)
			add(p+".client_secret", cr.ClientSecret)
			add(p+".refresh_token", cr.RefreshToken)
		}
	}
	return out
}

// ResolveSecrets resolves every configured secret once, so `credmon
// validate` finds an unset variable or unreadable file before the daemon
// does. Errors are *Error at each secret's position, wrapping
// ErrSecretUnresolved, or ErrInvalid for a value that cannot work (a Slack
// webhook URL over plain http to another machine); hygiene findings (a file ending in a newline, a
// secret that resolves empty) join Warnings, replacing those of an earlier
// call. No value is kept.
func (c *Config) ResolveSecrets() error {
	var errs []*Error
	c.Warnings = append([]*Error(nil), c.loadWarnings...)
	for _, ref := range c.secrets() {
		at := ref.secret.Pos
		if at.File == "" {
			at = c.Pos(ref.path)
		}
		val, err := ref.secret.Resolve()
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), ErrSecretUnresolved.Error()+": ")
			if ref.secret.Source == SourceFile {
				var pe *os.PathError
				if errors.As(err, &pe) {
					msg = fmt.Sprintf("cannot read secret file %s: %v", ref.secret.Ref, pe.Err)
				}
			}
			errs = append(errs, &Error{Pos: at, Path: ref.path, Msg: msg, Err: ErrSecretUnresolved})
			continue
		}
		if val.StrippedNewline {
			c.Warnings = append(c.Warnings, &Error{Pos: at, Path: ref.path, Err: ErrHygiene,
				Msg: fmt.Sprintf("secret file %s ends with a newline; credmon strips it, but other readers of the file may not", ref.secret.Ref)})
		}
		if val.Text == "" && !val.Absent {
			c.Warnings = append(c.Warnings, &Error{Pos: at, Path: ref.path, Err: ErrHygiene,
				Msg: fmt.Sprintf("secret from %s is empty", ref.secret.Describe())})
		} else if ref.check != nil {
			if msg := ref.check(val.Text); msg != "" {
				errs = append(errs, &Error{Pos: at, Path: ref.path, Msg: msg, Err: ErrInvalid})
			}
		}
	}
	c.Warnings = append(c.Warnings, c.sharedKeys()...)
	sortErrors(c.Warnings)
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	return nil
}

// sharedKeys warns about one key configured in two environments, compared
// by keyed fingerprint; the warning sits at the later credential and
// names both, never the key.
func (c *Config) sharedKeys() []*Error {
	mac := NewKeyMAC()
	type owner struct{ env, cred string }
	first := map[string]owner{}
	var out []*Error
	for _, en := range sortedKeys(c.Environments) {
		env := c.Environments[en]
		for _, cn := range sortedKeys(env.Credentials) {
			cr := env.Credentials[cn]
			if cr == nil {
				continue
			}
			v, err := cr.KeySecret().Resolve()
			fp := mac.Of(cr, v.Text)
			if err != nil || fp == "" {
				continue
			}
			o, seen := first[fp]
			if !seen {
				first[fp] = owner{en, cn}
				continue
			}
			if o.env == en {
				continue // two names for one key in one environment: not this warning
			}
			path := credPath(en, cn)
			out = append(out, &Error{Pos: c.Pos(path), Path: path, Err: ErrHygiene, Msg: SharedKeyMsg(en, cn, o.env, o.cred)})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

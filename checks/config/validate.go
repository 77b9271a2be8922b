package config

import (
	"fmt"

	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/credmon/credmon/checks/redact"
	"github.com/credmon/credmon/checks/schedule"
	toolkit "github.com/prometheus/exporter-toolkit/web"
)

// validator checks a decoded, merged config and collects every problem at
// the position of the field it concerns.
type validator struct {
	c    *Config
	errs []*Error
	// failed are the paths decoding already reported; a second error about
	// the value left behind would only be noise.
	failed map[string]bool
}

func (v *validator) errorf(path string, sentinel error, format string, args ...any) {
	if v.failed[path] {
		return
	}
	v.errs = append(v.errs, &Error{Pos: v.c.Pos(path), Path: path, Msg: fmt.Sprintf(format, args...), Err: sentinel})
}

var (
	envNamePattern     = regexp.MustCompile(`^[a-z0-9_-]+$`)
	itemNamePattern    = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	tokenPattern       = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$") // RFC 9110 token
	credentialTypes    = []string{TypeBearer, TypeAPIKey, TypeBasic, TypeOAuth2ClientCredentials, TypeOAuth2RefreshToken}
	oauthOnlyFields    = []string{"token_url", "client_id", "client_secret", "refresh_token", "scopes", "audience", "endpoint_params", "auth_style", "refresh_before", "token_max_age"}
	credentialTypeList = strings.Join(credentialTypes, ", ")
)

func (c *Config) validate(failed map[string]bool) []*Error {
	v := &validator{c: c, failed: failed}
	v.server()
	v.store()
	v.scheduler()
	v.alerting()
	v.notify()
	v.clock()
	v.maintenance()
	envs := make([]string, 0, len(c.Environments))
	for name := range c.Environments {
		envs = append(envs, name)
	}
	sort.Strings(envs)
	for _, name := range envs {
		v.environment(name, c.Environments[name])
	}
	return v.errs
}

func (v *validator) server() {
	if u := v.c.Server.ExternalURL; u != "" {
		if msg := endpointProblem(u); msg != "" {
			v.errorf("server.external_url", ErrInvalid, "%s", msg)
		}
	}
	if _, port, err := net.SplitHostPort(v.c.Server.Listen); err != nil || port == "" {
		v.errorf("server.listen", ErrInvalid, "invalid listen address %q (use host:port, e.g. 127.0.0.1:9464)", v.c.Server.Listen)
	}
	if f := v.c.Server.WebConfigFile; f != "" {
		// Validate reads the file, its certificates and keys, and checks
		// that every basic_auth_users entry is a bcrypt hash: the same
		// checks the server makes when it starts, so a bad file fails at
		// load, not after the daemon has said it is running.
		if err := toolkit.Validate(f); err != nil {
			v.errorf("server.web_config_file", ErrInvalid, "invalid web config %s: %s", f, strings.Join(strings.Fields(errText(err)), " "))
		}
	}
	v.reloadEndpoint()
	if v.c.Server.Pprof && v.c.Server.WebConfigFile == "" && !listensOnLoopback(v.c.Server.Listen) {
		// Profiles name every function and goroutine of the process: not
		// for anyone who can reach the port.
		v.errorf("server.pprof", ErrInvalid, "pprof on %s, which is not loopback, needs server.web_config_file (basic auth or TLS client certificates); or listen on 127.0.0.1", v.c.Server.Listen)
	}
}

// listensOnLoopback reports whether a listen address binds loopback only;
// an empty host binds every interface.
func listensOnLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	return err == nil && IsLoopback(host)
}

func (v *validator) store() {
	s := v.c.Store
	switch s.Driver {
	case "bolt":
		if s.Path == "" {
			v.errorf("store.path", ErrRequired, "required for the bolt driver")
		}
	case "memory":
	case "redis":
		r := s.Redis
		if r.URL == "" && len(r.Addrs) == 0 {
			v.errorf("store.redis", ErrRequired, "the redis driver needs url or addrs")
		}
		if r.URL != "" {
			if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
				// Not echoed: a redis URL may carry a password.
				v.errorf("store.redis.url", ErrInvalid, "invalid redis url (use redis://host:6379/0, rediss:// or unix://)")
			}
		}
		for i, a := range r.Addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				v.errorf(fmt.Sprintf("store.redis.addrs[%d]", i), ErrInvalid, "invalid address %q (use host:port)", a)
			}
		}
		if r.DB < 0 {
			v.errorf("store.redis.db", ErrInvalid, "must be >= 0")
		}
		switch {
		case r.WaitReplicas < 0:
			v.errorf("store.redis.wait_replicas", ErrInvalid, "must be >= 0")
		case r.WaitReplicas > 0 && len(r.Addrs) > 1 && r.MasterName == "":
			v.errorf("store.redis.wait_replicas", ErrInvalid, "is for a master with replicas (a url, or Sentinel's addrs + master_name), not Cluster: WAIT has no key to reach the node that took a write")
		}
		v.tls(r.TLS, "store.redis.tls")
		v.insecureTLS(r.TLS, "store.redis.tls", redisHasPassword(r), insecureRedisMsg)
	default:
		v.errorf("store.driver", ErrInvalid, "unknown driver %q (use bolt, redis or memory)", s.Driver)
	}
}

// schedule checks spec with the Scheduler's own parser, so validation and
// the daemon accept and refuse the same schedules.
func (v *validator) schedule(path, spec string) {
	if _, err := schedule.Parse(spec); err != nil {
		v.errorf(path, ErrInvalid, "invalid schedule %q: %v (use e.g. \"*/5 * * * *\" or \"@every 1m\")", spec, err)
	}
}

func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.errorf(path, ErrInvalid, "must be greater than 0")
	}
}

func (v *validator) scheduler() {
	s := v.c.Scheduler
	v.schedule("scheduler.schedule", s.Schedule)
	v.positive("scheduler.timeout", s.Timeout)
	if s.MaxConcurrency < 1 {
		v.errorf("scheduler.max_concurrency", ErrInvalid, "must be at least 1")
	}
}

func (v *validator) alerting() {
	a := v.c.Alerting
	if a.FailureThreshold < 1 {
		v.errorf("alerting.failure_threshold", ErrInvalid, "must be at least 1")
	}
	if a.SuccessThreshold < 1 {
		v.errorf("alerting.success_threshold", ErrInvalid, "must be at least 1")
	}
	for i, d := range a.ExpiryWarnBefore {
		v.positive(fmt.Sprintf("alerting.expiry_warn_before[%d]", i), d)
	}
}

func (v *validator) notify() {
	v.slack()
	v.alertmanager()
	v.pagerduty()
	v.webhook()
	v.routes()
}

func (v *validator) slack() {
	s := v.c.Notify.Slack
	if s == nil {
		return
	}
	switch {
	case s.WebhookURL.IsSet() && s.BotToken.IsSet():
		v.errorf("notify.slack", ErrInvalid, "set either webhook_url or bot_token, not both")
	case !s.WebhookURL.IsSet() && !s.BotToken.IsSet():
		v.errorf("notify.slack", ErrRequired, "needs webhook_url or bot_token")
	case s.BotToken.IsSet() && s.Channel == "":
		v.errorf("notify.slack.channel", ErrRequired, "required with bot_token")
	}
	u, err := url.Parse(s.APIURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.errorf("notify.slack.api_url", ErrInvalid, "invalid url %q (use https://slack.com/api/)", redact.URL(s.APIURL))
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		v.errorf("notify.slack.api_url", ErrInvalid, "the bot token would be sent over plain http to %s; use https (plain http is for this machine only)", u.Hostname())
	}
}

// webhookURLProblem judges a resolved Slack webhook URL (ResolveSecrets
// calls it; before that the value is unknown). The URL is the secret, so
// the message shows neither it nor its host.
func webhookURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "the webhook URL is not an http(s) URL with a host (value not shown: it is a secret)"
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "the webhook URL would be sent over plain http to another machine; use https (plain http is for this machine only)"
	}
	return ""
}

func (v *validator) clock() {
	c := v.c.Clock
	v.schedule("clock.schedule", c.Schedule)
	v.positive("clock.max_offset", c.MaxOffset)
	for i, s := range c.NTPServers {
		if strings.TrimSpace(s) == "" {
			v.errorf(fmt.Sprintf("clock.ntp_servers[%d]", i), ErrInvalid, "empty server name")
		}
	}
}

func (v *validator) environment(name string, env *Environment) {
	path := "environments." + name
	if !envNamePattern.MatchString(name) {
		v.errorf(path, ErrInvalid, "invalid environment name %q (use lowercase letters, digits, _ and -)", name)
	}
	creds := make([]string, 0, len(env.Credentials))
	for cn := range env.Credentials {
		creds = append(creds, cn)
	}
	sort.Strings(creds)
	for _, cn := range creds {
		v.credential(credPath(name, cn), cn, env.Credentials[cn])
	}
	first := map[string]int{}
	for i, ch := range env.Checks {
		p := checkPath(name, i)
		if ch == nil {
			v.errorf(p, ErrRequired, "empty check")
			continue
		}
		if j, dup := first[ch.Name]; dup && ch.Name != "" {
			v.errs = append(v.errs, &Error{Pos: v.c.Pos(checkPath(name, j) + ".name"), Path: checkPath(name, j) + ".name",
				Err: ErrDuplicate, Msg: fmt.Sprintf("duplicate check %q (also defined at %s)", ch.Name, v.c.Pos(p+".name"))})
		} else {
			first[ch.Name] = i
		}
		v.check(p, env, ch, creds)
	}
}

func (v *validator) credential(path, name string, cr *Credential) {
	if !itemNamePattern.MatchString(name) {
		v.errorf(path, ErrInvalid, "invalid credential name %q (use letters, digits, ., _ and -)", name)
	}
	if cr == nil {
		v.errorf(path+".type", ErrRequired, "required (one of %s)", credentialTypeList)
		return
	}
	v.otherEnvironmentNames(path, cr)
	switch cr.Type {
	case TypeBearer, TypeAPIKey, TypeBasic:
		if !cr.Secret.IsSet() {
			v.errorf(path+".secret", ErrRequired, "required for type %s", cr.Type)
		}
		if cr.Type == TypeBasic && cr.Username == "" {
			v.errorf(path+".username", ErrRequired, "required for type basic")
		}
		for _, f := range oauthOnlyFields {
			if v.c.isSet(path + "." + f) {
				v.errorf(path+"."+f, ErrInvalid, "only for oauth2 credentials (type is %s)", cr.Type)
			}
		}
	case TypeOAuth2ClientCredentials, TypeOAuth2RefreshToken:
		if cr.TokenURL == "" {
			v.errorf(path+".token_url", ErrRequired, "required for type %s", cr.Type)
		} else {
			v.credentialURL(path+".token_url", cr.TokenURL, cr.AllowInsecure, "the client credentials")
		}
		if cr.ClientID == "" {
			v.errorf(path+".client_id", ErrRequired, "required for type %s", cr.Type)
		}
		if cr.Type == TypeOAuth2ClientCredentials && !cr.ClientSecret.IsSet() {
			v.errorf(path+".client_secret", ErrRequired, "required for type %s", cr.Type)
		}
		if cr.Type == TypeOAuth2RefreshToken {
			if !cr.RefreshToken.IsSet() {
				v.errorf(path+".refresh_token", ErrRequired, "required for type %s", cr.Type)
			}
			if cr.Previous.IsSet() {
				v.errorf(path+".previous", ErrInvalid, "not used by type %s", cr.Type)
			}
		}
		if cr.Type == TypeOAuth2ClientCredentials && cr.RefreshToken.IsSet() {
			v.errorf(path+".refresh_token", ErrInvalid, "not used by type %s (use type oauth2_refresh_token)", cr.Type)
		}
		if cr.Secret.IsSet() {
			use := "client_secret"
			if cr.Type == TypeOAuth2RefreshToken {
				use = "refresh_token"
			}
			v.errorf(path+".secret", ErrInvalid, "not used by type %s (use %s)", cr.Type, use)
		}
		switch cr.AuthStyle {
		case "auto", "header", "params":
		default:
			v.errorf(path+".auth_style", ErrInvalid, "unknown auth_style %q (use auto, header or params)", cr.AuthStyle)
		}
		v.positive(path+".refresh_before", cr.RefreshBefore)
		v.positive(path+".token_max_age", cr.TokenMaxAge)
	case "":
		v.errorf(path+".type", ErrRequired, "required (one of %s)", credentialTypeList)
		return
	default:
		v.errorf(path+".type", ErrInvalid, "unknown credential type %q (use one of %s)", cr.Type, credentialTypeList)
		return
	}
	if cr.Type != TypeBasic && cr.Username != "" {
		v.errorf(path+".username", ErrInvalid, "only for basic credentials (type is %s)", cr.Type)
	}
	if !tokenPattern.MatchString(cr.Header) {
		v.errorf(path+".header", ErrInvalid, "invalid header name %q", cr.Header)
	}
	if cr.Scheme != nil && *cr.Scheme != "" && !tokenPattern.MatchString(*cr.Scheme) {
		v.errorf(path+".scheme", ErrInvalid, "invalid scheme %q (a single word such as Bearer, or \"\" for none)", *cr.Scheme)
	}
	for i, p := range cr.ExpectPrefix {
		if p == "" {
			v.errorf(fmt.Sprintf("%s.expect_prefix[%d]", path, i), ErrInvalid, "empty prefix")
		}
	}
	if r := cr.Rotation; r != nil {
		rp := path + ".rotation"
		if v.c.isSet(rp + ".max_age") {
			v.positive(rp+".max_age", r.MaxAge)
		}
		if r.RotatedAt == RotatedAuto && !v.c.Store.Fingerprints() {
			v.errorf(rp+".rotated_at", ErrRequired, "rotated_at: auto with store.driver redis needs store.fingerprint_key (or store.encryption_key): 32 random bytes, base64 (openssl rand -base64 32); credmon never keeps that key in redis, beside the fingerprints it protects")
		}
		if r.RotatedAt != "" && r.RotatedAt != RotatedAuto {
			if _, err := ParseTime(r.RotatedAt); err != nil {
				v.errorf(rp+".rotated_at", ErrInvalid, "invalid rotated_at %q (use a date such as 2006-01-02, an RFC 3339 time, or auto)", r.RotatedAt)
			}
		}
	}
}

// credentialURL enforces the security rule (README, Security): a credential
// never goes over plain http to a host other than this machine.
func (v *validator) credentialURL(path, raw string, allowInsecure bool, what string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, ErrInvalid, "invalid url %q (use http:// or https:// with a host)", redact.URL(raw))
		return
	}
	if u.Scheme == "http" && !allowInsecure && !IsLoopback(u.Hostname()) {
		v.errorf(path, ErrInvalid, "%s would be sent over plain http to %s; use https, or set allow_insecure: true", what, u.Hostname())
	}
}

// IsLoopback reports whether host (a name or an address, bracketed or
// not) is this machine: localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// hasUserinfo reports whether a URL carries user:password@.
func hasUserinfo(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.User != nil
}

func (v *validator) check(path string, env *Environment, ch *Check, creds []string) {
	switch {
	case ch.Name == "":
		v.errorf(path+".name", ErrRequired, "required")
	case !itemNamePattern.MatchString(ch.Name):
		v.errorf(path+".name", ErrInvalid, "invalid check name %q (use letters, digits, ., _ and -)", ch.Name)
	}
	var cred *Credential
	if ch.Credential != "" {
		cred = env.Credentials[ch.Credential]
		if cred == nil {
			known := "none are defined in this environment"
			if len(creds) > 0 {
				known = "known: " + strings.Join(creds, ", ")
			}
			v.errorf(path+".credential", ErrReference, "unknown credential %q (%s)", ch.Credential, known)
		}
	}
	if ch.URL == "" {
		v.errorf(path+".url", ErrRequired, "required")
	} else if cred != nil {
		v.credentialURL(path+".url", ch.URL, ch.AllowInsecure || cred.AllowInsecure, fmt.Sprintf("credential %q", cred.Name))
	} else if ch.CarriesSecret() {
		v.credentialURL(path+".url", ch.URL, ch.AllowInsecure, "the secret in the check's request")
	} else if u, err := url.Parse(ch.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path+".url", ErrInvalid, "invalid url %q (use http:// or https:// with a host)", redact.URL(ch.URL, redact.NewSet(ch.Sensitive...)))
	}
	if !tokenPattern.MatchString(ch.Method) {
		v.errorf(path+".method", ErrInvalid, "invalid method %q", ch.Method)
	}
	// Inherited values are checked once, at scheduler.
	if v.c.isSet(path + ".schedule") {
		v.schedule(path+".schedule", ch.Schedule)
	}
	if v.c.isSet(path + ".timeout") {
		v.positive(path+".timeout", ch.Timeout)
	}
	for i, s := range ch.Expect.Status {
		if s < 100 || s > 599 {
			v.errorf(fmt.Sprintf("%s.expect.status[%d]", path, i), ErrInvalid, "status %d out of range 100..599", s)
		}
	}
	names := make([]string, 0, len(ch.Headers))
	for h := range ch.Headers {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if !tokenPattern.MatchString(h) {
			v.errorf(path+".headers."+h, ErrInvalid, "invalid header name %q", h)
		}
	}

	if ch.ProxyURL != "" {
		u, err := url.Parse(ch.ProxyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") || u.Host == "" {
			// Not echoed: proxy URLs carry passwords.
			v.errorf(path+".proxy_url", ErrInvalid, "invalid proxy url (use http://host:port, https:// or socks5://)")
		}
	}
	v.tls(ch.TLS, path+".tls")
	v.insecureTLS(ch.TLS, path+".tls", cred != nil, insecureCheckMsg)
}

func (v *validator) tls(t *TLS, path string) {
	if t == nil {
		return
	}
	for _, f := range []struct{ key, file string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		if f.file == "" {
			continue
		}
		if _, err := os.Stat(f.file); err != nil {
			v.errorf(path+"."+f.key, ErrInvalid, "cannot read %s: %s", f.file, errText(err))
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.errorf(path, ErrRequired, "cert_file and key_file must be set together")
	}
}

// otherEnvironmentNames warns about a secret read from a variable or file
// whose name says another environment than the credential's.
func (v *validator) otherEnvironmentNames(path string, cr *Credential) {
	env := strings.TrimPrefix(path, "environments.")
	env = env[:strings.IndexByte(env+".", '.')]
	for _, f := range []struct {
		key string
		s   Secret
	}{{"secret", cr.Secret}, {"previous", cr.Previous}, {"client_secret", cr.ClientSecret}, {"refresh_token", cr.RefreshToken}} {
		if word, ok := OtherEnvironmentName(env, f.s); ok {
			at := path + "." + f.key
			pos := f.s.Pos
			if pos.File == "" {
				pos = v.c.Pos(at)
			}
			v.c.Warnings = append(v.c.Warnings, &Error{Pos: pos, Path: at, Err: ErrHygiene, Msg: OtherEnvironmentMsg(env, f.s, word)})
		}
	}
}

// Package config owns credmon's YAML configuration: strict decoding, merging, ${VAR}
// interpolation, defaults, secret references and validation errors with file:line:col.
package config

import "time"

// Config is the whole, merged configuration.
//
// Defaults are set before decoding (so an explicit value, even a bad one
// like max_concurrency: 0, reaches validation and is reported): see
// defaults.go. The only defaults applied after merging are a check's
// schedule and timeout, which come from scheduler, possibly set in
// another file.
type Config struct {
	Server       Server                  `yaml:"server"`
	Store        Store                   `yaml:"store"`
	Scheduler    Scheduler               `yaml:"scheduler"`
	Alerting     Alerting                `yaml:"alerting"`
	Notify       Notify                  `yaml:"notify"`
	Clock        Clock                   `yaml:"clock"`
	Environments map[string]*Environment `yaml:"environments"`
	// Maintenance windows hold the notifications they match (checks keep
	// running); they are sent when the window ends.
	Maintenance []*Maintenance `yaml:"maintenance"`

	// Files are the files the configuration was read from, in order.
	Files []string `yaml:"-"`
	// Warnings are hygiene findings that do not stop loading (literal
	// secrets, stripped trailing newlines), each with its location.
	Warnings []*Error `yaml:"-"`

	// positions maps every decoded field path (environments.prod.checks[2].url)
	// to where it was written, so validation can point at the right line.
	positions map[string]Pos
	// loadWarnings are the warnings of decoding alone, so ResolveSecrets
	// can be called again without repeating its own findings.
	loadWarnings []*Error
}

// Server configures the HTTP listener.
type Server struct {
	Listen string `yaml:"listen"` // host:port, default 127.0.0.1:9464
	// WebConfigFile is a Prometheus exporter-toolkit web configuration
	// (TLS, basic auth, HTTP headers) applied to every endpoint; default
	// none: plain HTTP, no authentication.
	WebConfigFile string `yaml:"web_config_file"`
	// ExternalURL is where people reach the status page (behind a proxy
	// or an ingress); alerts link to it. Default none: no link.
	ExternalURL string `yaml:"external_url"`
	// EnableReloadEndpoint serves POST /-/reload, which reloads the
	// configuration as SIGHUP does; default false, as in Prometheus.
	EnableReloadEndpoint bool `yaml:"enable_reload_endpoint"`
	// Pprof serves Go's profiles at /debug/pprof/ on the same listener,
	// behind the same guards; default off. On a listen address that is
	// not loopback it needs WebConfigFile (TLS, basic auth).
	Pprof bool `yaml:"pprof"`
}

// Store selects and configures the state store.
type Store struct {
	Driver string `yaml:"driver"` // bolt (default) | redis | memory
	Path   string `yaml:"path"`   // bolt file, default credmon.db
	// FallbackPath is the redis driver's local buffer through an outage,
	// a bolt file; default credmon-fallback.db.
	FallbackPath  string `yaml:"fallback_path"`
	Redis         Redis  `yaml:"redis"`
	EncryptionKey Secret `yaml:"encryption_key"` // 32 bytes, base64; required to share tokens through redis
	// FingerprintKey keys the fingerprints of secrets (32 bytes, base64);
	// without it they are keyed by a key derived from EncryptionKey.
	FingerprintKey Secret `yaml:"fingerprint_key"`
}

// Fingerprints reports whether secrets can be fingerprinted: the key that
// makes a fingerprint secret never lives in the store, so a shared store
// needs it configured, while bolt and memory have a key of their own (a
// file beside the database, or one per process).
func (s Store) Fingerprints() bool {
	return s.Driver != "redis" || s.FingerprintKey.IsSet() || s.EncryptionKey.IsSet()
}

// Redis configures the redis driver.
type Redis struct {
	URL            string   `yaml:"url"`
	Addrs          []string `yaml:"addrs"`       // several for cluster
	MasterName     string   `yaml:"master_name"` // sentinel
	Username       string   `yaml:"username"`
	Password       Secret   `yaml:"password"`
	DB             int      `yaml:"db"`
	KeyPrefix      string   `yaml:"key_prefix"` // default "credmon:"
	TLS            *TLS     `yaml:"tls"`
	DialTimeout    Duration `yaml:"dial_timeout"`
	CommandTimeout Duration `yaml:"command_timeout"`
	// WaitReplicas makes outbox and KV writes wait until that many
	// replicas confirm them (Redis WAIT); 0, the default, does not wait.
	WaitReplicas int      `yaml:"wait_replicas"`
	WaitTimeout  Duration `yaml:"wait_timeout"` // bound of that wait; default 500ms
}

// Scheduler holds defaults for every check.
type Scheduler struct {
	Schedule       string   `yaml:"schedule"`        // default "@every 1m"
	Jitter         Duration `yaml:"jitter"`          // default 0
	Timeout        Duration `yaml:"timeout"`         // default 10s
	MaxConcurrency int      `yaml:"max_concurrency"` // default 64
}

// Alerting configures incident thresholds and warning bands.
type Alerting struct {
	FailureThreshold int        `yaml:"failure_threshold"`  // default 2
	SuccessThreshold int        `yaml:"success_threshold"`  // default 1
	RemindEvery      Duration   `yaml:"remind_every"`       // default 4h; 0 = never
	SendResolved     *bool      `yaml:"send_resolved"`      // default true
	ExpiryWarnBefore []Duration `yaml:"expiry_warn_before"` // default [14d, 7d, 1d]
}

// Notify configures notifiers.
type Notify struct {
	Console      *bool         `yaml:"console"` // default true
	Slack        *Slack        `yaml:"slack"`
	Alertmanager *Alertmanager `yaml:"alertmanager"`
	PagerDuty    *PagerDuty    `yaml:"pagerduty"`
	Webhook      *Webhook      `yaml:"webhook"`
	// Routes pick the notifiers of each message: first match wins unless
	// it says continue; a message no route matches goes to every notifier.
	Routes []*Route `yaml:"routes"`
}

// Notifier names, as routes' `to` lists name them.
const (
	NotifierSlack        = "slack"
	NotifierAlertmanager = "alertmanager"
	NotifierPagerDuty    = "pagerduty"
	NotifierWebhook      = "webhook"
)

// Configured lists the names of the configured notifiers a route may
// name, in a fixed order. The console is not among them: it logs every
// transition and is not routed.
func (n Notify) Configured() []string {
	var out []string
	if n.Slack != nil {
		out = append(out, NotifierSlack)
	}
	if n.Alertmanager != nil {
		out = append(out, NotifierAlertmanager)
	}
	if n.PagerDuty != nil {
		out = append(out, NotifierPagerDuty)
	}
	if n.Webhook != nil {
		out = append(out, NotifierWebhook)
	}
	return out
}

// Alertmanager configures delivery to Alertmanager's API v2: every URL
// (an HA pair or cluster) receives every alert.
type Alertmanager struct {
	URLs []string `yaml:"urls"`
	// RunbookURL becomes each alert's runbook_url annotation; {{cause}}
	// and {{env}} are replaced.
	RunbookURL string `yaml:"runbook_url"`
	// RepostEvery is how often open alerts are restated; each post asks
	// Alertmanager to keep the alert for 4 times this. Default 1m.
	RepostEvery Duration `yaml:"repost_every"`
}

// PagerDuty configures delivery to the PagerDuty Events API v2.
type PagerDuty struct {
	RoutingKey Secret `yaml:"routing_key"` // the integration key
	URL        string `yaml:"url"`         // default https://events.pagerduty.com/v2/enqueue
}

// Webhook configures the generic webhook: a JSON body signed with an
// HMAC-SHA256 of a shared secret (docs/webhook.md).
type Webhook struct {
	URL    string `yaml:"url"`
	Secret Secret `yaml:"secret"`
}

// Route sends the messages its matchers select to notifiers by name.
type Route struct {
	Match    RouteMatch `yaml:"match"`
	To       []string   `yaml:"to"`
	Continue bool       `yaml:"continue"`
}

// RouteMatch selects messages; an empty field matches anything.
type RouteMatch struct {
	Env      string `yaml:"env"`
	Cause    string `yaml:"cause"`
	Status   string `yaml:"status"`   // ok | warn | fail | error
	Severity string `yaml:"severity"` // critical | warning | info
}

// Maintenance is a window during which matching notifications are held:
// recurring (start is a schedule, as checks' schedule, plus duration) or
// fixed (start and end are timestamps).
type Maintenance struct {
	Match    SilenceMatch `yaml:"match"`
	Start    string       `yaml:"start"`
	Duration Duration     `yaml:"duration"`
	End      string       `yaml:"end"`
	Comment  string       `yaml:"comment"`
}

// SilenceMatch selects notifications by environment and by check or
// credential; an empty field matches anything.
type SilenceMatch struct {
	Env        string `yaml:"env"`
	Check      string `yaml:"check"`
	Credential string `yaml:"credential"`
}

// Slack configures Slack delivery: a webhook or a bot token.
type Slack struct {
	WebhookURL Secret `yaml:"webhook_url"`
	BotToken   Secret `yaml:"bot_token"`
	Channel    string `yaml:"channel"`
	APIURL     string `yaml:"api_url"` // default https://slack.com/api/
}

// SlackRoute overrides Slack routing for one environment.
type SlackRoute struct {
	Channel    string `yaml:"channel"`
	WebhookURL Secret `yaml:"webhook_url"`
}

// Clock configures NTP skew checks.
type Clock struct {
	NTPServers []string `yaml:"ntp_servers"` // default none: the clock check is off
	Schedule   string   `yaml:"schedule"`    // default "@every 5m"
	MaxOffset  Duration `yaml:"max_offset"`  // default 2s
}

// Environment is one deployment environment (dev, staging, prod).
type Environment struct {
	Name        string                 `yaml:"-"`
	Slack       *SlackRoute            `yaml:"slack"`
	Expect      EnvExpect              `yaml:"expect"`
	Credentials map[string]*Credential `yaml:"credentials"`
	Checks      []*Check               `yaml:"checks"`
}

// EnvExpect are environment guards for JWT credentials.
type EnvExpect struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
}

// Credential types.
const (
	TypeBearer                  = "bearer"
	TypeAPIKey                  = "api_key"
	TypeBasic                   = "basic"
	TypeOAuth2ClientCredentials = "oauth2_client_credentials"
	TypeOAuth2RefreshToken      = "oauth2_refresh_token"
)

// Credential is one secret and how it is presented to an API.
type Credential struct {
	Name string `yaml:"-"`
	Env  string `yaml:"-"`
	File string `yaml:"-"` // the file the credential was defined in

	Type     string `yaml:"type"`
	Secret   Secret `yaml:"secret"`   // key, token or basic password
	Previous Secret `yaml:"previous"` // the key being rotated out
	Username string `yaml:"username"` // basic
	Header   string `yaml:"header"`   // default Authorization
	// Scheme is the value prefix; nil means the type's default ("Bearer"
	// for bearer/api_key on Authorization, none on other headers), "" none.
	Scheme       *string   `yaml:"scheme"`
	ExpectPrefix []string  `yaml:"expect_prefix"`
	ExpiresAt    *Time     `yaml:"expires_at"`
	Rotation     *Rotation `yaml:"rotation"`

	// OAuth2.
	TokenURL       string            `yaml:"token_url"`
	ClientID       string            `yaml:"client_id"`
	ClientSecret   Secret            `yaml:"client_secret"`
	RefreshToken   Secret            `yaml:"refresh_token"`
	Scopes         []string          `yaml:"scopes"`
	Audience       string            `yaml:"audience"`
	EndpointParams map[string]string `yaml:"endpoint_params"`
	AuthStyle      string            `yaml:"auth_style"`     // auto (default) | header | params
	RefreshBefore  Duration          `yaml:"refresh_before"` // default 60s
	TokenMaxAge    Duration          `yaml:"token_max_age"`  // for tokens without expires_in or exp; default 5m

	AllowInsecure bool `yaml:"allow_insecure"`
}

// Rotation is a credential's rotation policy.
type Rotation struct {
	MaxAge    Duration `yaml:"max_age"`
	RotatedAt string   `yaml:"rotated_at"` // a date (2006-01-02 or RFC 3339) or "auto"
	ExpiresAt *Time    `yaml:"expires_at"`
	Grace     Duration `yaml:"grace"`
}

// Check is one scheduled probe of an API with a credential.
type Check struct {
	Name       string           `yaml:"name"`
	Credential string           `yaml:"credential"` // optional: a check may probe without one
	Method     string           `yaml:"method"`     // default GET
	URL        string           `yaml:"url"`
	Headers    map[string]Param `yaml:"headers"` // text or secret references
	Query      map[string]Param `yaml:"query"`   // added to the url's query
	Body       Param            `yaml:"body"`
	Schedule   string           `yaml:"schedule"` // default scheduler.schedule
	Timeout    Duration         `yaml:"timeout"`  // default scheduler.timeout
	Expect     CheckExpect      `yaml:"expect"`

	FreshConnection bool   `yaml:"fresh_connection"`
	ProxyURL        string `yaml:"proxy_url"`
	TLS             *TLS   `yaml:"tls"`
	FollowRedirects bool   `yaml:"follow_redirects"`
	AllowInsecure   bool   `yaml:"allow_insecure"`

	Env  string `yaml:"-"`
	File string `yaml:"-"` // the file the check was defined in
	// Sensitive are the values ${VAR} put into url, headers, query or
	// body: secrets for all credmon knows, redacted from what it shows.
	Sensitive []string `yaml:"-"`
}

// CarriesSecret reports whether a request of the check carries a secret
// other than its credential: a secret reference or a ${VAR} value in what
// it sends, or userinfo in its url.
func (c *Check) CarriesSecret() bool {
	if len(c.Sensitive) > 0 || c.Body.IsSecret() || hasUserinfo(c.URL) {
		return true
	}
	for _, m := range []map[string]Param{c.Headers, c.Query} {
		for _, p := range m {
			if p.IsSecret() {
				return true
			}
		}
	}
	return false
}

// CheckExpect is what a healthy response looks like.
type CheckExpect struct {
	Status []int          `yaml:"status"` // empty means any 2xx
	JSON   map[string]any `yaml:"json"`   // top-level field equality
}

// TLS configures client TLS for a probe or for Redis.
type TLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Time is a date or timestamp in config: 2006-01-02 or RFC 3339.
type Time struct{ time.Time }

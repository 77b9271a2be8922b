package config

import (
	"time"

	"github.com/credmon/credmon/checks/duration"
)

// Defaults. They are set before decoding, so an explicit value (even a
// wrong one) replaces them and reaches validation. Config owns them: code
// that can run without a config (a zero Deps, IncidentOptions or
// rotation.Options in a test or a library caller) falls back to these same
// constants, never to its own numbers.
const (
	DefaultListen         = "127.0.0.1:9464"
	DefaultStoreDriver    = "bolt"
	DefaultStorePath      = "credmon.db"
	DefaultFallbackPath   = "credmon-fallback.db"
	DefaultKeyPrefix      = "credmon:"
	DefaultSchedule       = "@every 1m"
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConcurrency = 64
	DefaultSlackAPIURL    = "https://slack.com/api/"
	DefaultClockSchedule  = "@every 5m"
	DefaultMaxOffset      = 2 * time.Second
	DefaultMethod         = "GET"
	DefaultHeader         = "Authorization"
	DefaultRefreshBefore  = 60 * time.Second
	DefaultTokenMaxAge    = 5 * time.Minute
	DefaultAuthStyle      = "auto"
	// DefaultRefreshEvery is how long a secret store's values are kept in
	// memory before they are read again (a store secret's refresh_every).
	DefaultRefreshEvery = 5 * time.Minute

	DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
	// DefaultAlertmanagerRepost is how often open alerts are restated to
	// Alertmanager, as Prometheus resends firing alerts every minute.
	DefaultAlertmanagerRepost = time.Minute

	DefaultFailureThreshold = 2
	DefaultSuccessThreshold = 1
	DefaultRemindEvery      = 4 * time.Hour
	// DefaultRotationGrace is how long a previous key may keep working
	// after a rotation when rotation.grace is not set.
	DefaultRotationGrace = 24 * time.Hour
)

// DefaultExpiryWarnBefore returns the warning bands of
// alerting.expiry_warn_before, longest first; a new slice on every call.
func DefaultExpiryWarnBefore() []time.Duration {
	return []time.Duration{14 * duration.Day, 7 * duration.Day, duration.Day}
}

// defaulter is implemented by the types whose zero value is not their
// default; the decoder calls it when it allocates one.
type defaulter interface{ setDefaults() }

func (c *Config) setDefaults() {
	yes, yes2 := true, true
	c.Server.Listen = DefaultListen
	c.Store.Driver = DefaultStoreDriver
	c.Store.Path = DefaultStorePath
	c.Store.FallbackPath = DefaultFallbackPath
	c.Store.Redis.KeyPrefix = DefaultKeyPrefix
	c.Scheduler = Scheduler{
		Schedule:       DefaultSchedule,
		Timeout:        Duration(DefaultTimeout),
		MaxConcurrency: DefaultMaxConcurrency,
	}
	c.Alerting = Alerting{
		FailureThreshold: DefaultFailureThreshold,
		SuccessThreshold: DefaultSuccessThreshold,
		RemindEvery:      Duration(DefaultRemindEvery),
		SendResolved:     &yes,
	}
	for _, d := range DefaultExpiryWarnBefore() {
		c.Alerting.ExpiryWarnBefore = append(c.Alerting.ExpiryWarnBefore, Duration(d))
	}
	c.Notify.Console = &yes2
	c.Clock.Schedule = DefaultClockSchedule
	c.Clock.MaxOffset = Duration(DefaultMaxOffset)
}

func (s *Slack) setDefaults() { s.APIURL = DefaultSlackAPIURL }

func (p *PagerDuty) setDefaults() { p.URL = DefaultPagerDutyURL }

func (a *Alertmanager) setDefaults() { a.RepostEvery = Duration(DefaultAlertmanagerRepost) }

func (c *Credential) setDefaults() {
	c.Header = DefaultHeader
	c.RefreshBefore = Duration(DefaultRefreshBefore)
	c.TokenMaxAge = Duration(DefaultTokenMaxAge)
	c.AuthStyle = DefaultAuthStyle
}

func (c *Check) setDefaults() { c.Method = DefaultMethod }

// inheritDefaults fills what a check takes from scheduler, which may have
// been set in another file than the check.
func (c *Config) inheritDefaults() {
	for _, env := range c.Environments {
		for i, ch := range env.Checks {
			if ch == nil {
				continue
			}
			p := checkPath(env.Name, i)
			if _, set := c.positions[p+".schedule"]; !set {
				ch.Schedule = c.Scheduler.Schedule
			}
			if _, set := c.positions[p+".timeout"]; !set {
				ch.Timeout = c.Scheduler.Timeout
			}
		}
	}
}

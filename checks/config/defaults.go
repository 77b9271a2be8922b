package config

import "time"

// Defaults. They are set before decoding, so an explicit value (even a
// wrong one) replaces them and reaches validation.
const (
	DefaultListen         = "127.0.0.1:9464"
	DefaultStoreDriver    = "bolt"
	DefaultStorePath      = "credmon.db"
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
)

// defaulter is implemented by the types whose zero value is not their
// default; the decoder calls it when it allocates one.
type defaulter interface{ setDefaults() }

func (c *Config) setDefaults() {
	day := Duration(24 * time.Hour)
	yes, yes2 := true, true
	c.Server.Listen = DefaultListen
	c.Store.Driver = DefaultStoreDriver
	c.Store.Path = DefaultStorePath
	c.Store.Redis.KeyPrefix = DefaultKeyPrefix
	c.Scheduler = Scheduler{
		Schedule:       DefaultSchedule,
		Timeout:        Duration(DefaultTimeout),
		MaxConcurrency: DefaultMaxConcurrency,
	}
	c.Alerting = Alerting{
		FailureThreshold: 2,
		SuccessThreshold: 1,
		RemindEvery:      Duration(4 * time.Hour),
		SendResolved:     &yes,
		ExpiryWarnBefore: []Duration{14 * day, 7 * day, day},
	}
	c.Notify.Console = &yes2
	c.Clock.Schedule = DefaultClockSchedule
	c.Clock.MaxOffset = Duration(DefaultMaxOffset)
}

func (s *Slack) setDefaults() { s.APIURL = DefaultSlackAPIURL }

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

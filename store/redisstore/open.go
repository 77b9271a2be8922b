package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options selects a Redis deployment. Set URL for a single server, or
// Addrs: one address for a single server, several for a Cluster, or
// Sentinel addresses together with MasterName.
type Options struct {
	URL        string   // redis:// or rediss://, as redis.ParseURL reads it
	Addrs      []string // host:port
	MasterName string   // Sentinel master; Addrs are then the Sentinels
	Username   string   // overrides the URL's
	Password   string   // overrides the URL's; never printed
	DB         int      // overrides the URL's when not 0; ignored by Cluster
	TLS        *tls.Config
	KeyPrefix  string // e.g. "credmon:"
	// DialTimeout bounds each connection attempt and the ping on Open;
	// default 5s.
	DialTimeout time.Duration
	// CommandTimeout bounds each command's read and write; 0 keeps the
	// driver's default (3s).
	CommandTimeout time.Duration
	// WaitReplicas, when above 0, makes every outbox and KV write wait
	// (WAIT) until that many replicas have it, so a failover cannot undo
	// it; a write they do not confirm within WaitTimeout fails with
	// ErrNotReplicated, and while fewer replicas are up every such write
	// fails. For a master with replicas (Sentinel, or a URL); not Cluster.
	WaitReplicas int
	// WaitTimeout bounds that wait; default 500ms, below CommandTimeout.
	WaitTimeout time.Duration
}

const defaultDialTimeout = 5 * time.Second

// Open connects to Redis, pings it and returns a store that owns the
// client. Errors name the server with any password replaced by "xxxxx".
func Open(ctx context.Context, opts Options) (*Store, error) {
	client, target, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	pingCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		client.Close()
		return nil, &redactedError{
			msg: scrub(fmt.Sprintf("redisstore: cannot reach redis at %s: %v", target, err), opts),
			err: err,
		}
	}
	return newStore(client, opts), nil
}

// Dial returns a store over a new client without pinging it, so a daemon
// can start while Redis is down and catch up when it returns. Configuration
// errors (a bad URL) are still returned.
func Dial(opts Options) (*Store, error) {
	client, _, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	return newStore(client, opts), nil
}

// newStore is a store owning client, with opts' replication wait.
func newStore(client redis.UniversalClient, opts Options) *Store {
	s := New(client, opts.KeyPrefix)
	s.owned = true
	s.waitReplicas, s.waitTimeout = opts.WaitReplicas, waitTimeout(opts)
	return s
}

func waitTimeout(opts Options) time.Duration {
	if opts.WaitTimeout > 0 {
		return opts.WaitTimeout
	}
	return defaultWaitTimeout
}

// defaultCommandTimeout is go-redis's read and write timeout.
const defaultCommandTimeout = 3 * time.Second

// checkWait refuses a replication wait the deployment cannot honour.
func checkWait(opts Options) error {
	switch {
	case opts.WaitReplicas < 0:
		return fmt.Errorf("redisstore: wait_replicas %d must not be negative", opts.WaitReplicas)
	case opts.WaitReplicas == 0:
		return nil
	case len(opts.Addrs) > 1 && opts.MasterName == "":
		// WAIT has no key, so a Cluster pipeline would not send it to the
		// node that took the write.
		return errors.New("redisstore: wait_replicas is for a master with replicas (Sentinel or a URL), not Cluster")
	}
	cmd := defaultCommandTimeout
	if opts.CommandTimeout > 0 {
		cmd = opts.CommandTimeout
	}
	if w := waitTimeout(opts); w >= cmd {
		return fmt.Errorf("redisstore: wait timeout %v must be below the command timeout %v", w, cmd)
	}
	return nil
}

// contextDeadlines: the client honours the caller's context deadline on
// every read and write (go-redis's ContextTimeoutEnabled). Without it a
// call on a Redis that accepts connections but does not answer (frozen,
// or across a partition) waits the command timeout and is then retried —
// about 10 s with the defaults — however short the caller's deadline: the
// fallback's 1 s health ping noticed a frozen Redis only after 10 s, and
// scheduler ticks waited on their claims meanwhile.

// newClient builds the client and a printable name for the target.
func newClient(opts Options) (redis.UniversalClient, string, error) {
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	if err := checkWait(opts); err != nil {
		return nil, "", err
	}
	switch {
	case opts.URL != "" && len(opts.Addrs) > 0:
		return nil, "", errors.New("redisstore: set a URL or addrs, not both")
	case opts.URL != "":
		target := RedactURL(opts.URL)
		o, err := redis.ParseURL(opts.URL)
		if err != nil {
			// Not wrapped: url.Parse errors quote the whole URL, password
			// included; the reason alone is enough.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, "", errors.New(scrub(fmt.Sprintf("redisstore: invalid redis url %s: %v", target, err), opts))
		}
		if opts.MasterName != "" {
			return nil, "", errors.New("redisstore: master_name needs Sentinel addrs, not a URL")
		}
		if opts.Username != "" {
			o.Username = opts.Username
		}
		if opts.Password != "" {
			o.Password = opts.Password
		}
		if opts.DB != 0 {
			o.DB = opts.DB
		}
		if opts.TLS != nil {
			o.TLSConfig = opts.TLS
		}
		o.DialTimeout = timeout
		o.ContextTimeoutEnabled = true // see contextDeadlines
		if opts.CommandTimeout > 0 {
			o.ReadTimeout, o.WriteTimeout = opts.CommandTimeout, opts.CommandTimeout
		}
		return redis.NewClient(o), target, nil
	case len(opts.Addrs) > 0:
		u := &redis.UniversalOptions{
			Addrs:       opts.Addrs,
			MasterName:  opts.MasterName,
			Username:    opts.Username,
			Password:    opts.Password,
			DB:          opts.DB,
			TLSConfig:   opts.TLS,
			DialTimeout: timeout,
			// See contextDeadlines.
			ContextTimeoutEnabled: true,
		}
		if opts.CommandTimeout > 0 {
			u.ReadTimeout, u.WriteTimeout = opts.CommandTimeout, opts.CommandTimeout
		}
		target := strings.Join(opts.Addrs, ",")
		if opts.MasterName != "" {
			target = "sentinel master " + opts.MasterName + " via " + target
		}
		return redis.NewUniversalClient(u), target, nil
	}
	return nil, "", errors.New("redisstore: no redis url or addrs configured")
}

// RedactURL returns raw with its password replaced by "xxxxx", for errors
// and logs. A URL that does not parse is reduced to its scheme.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		scheme, _, ok := strings.Cut(raw, "://")
		if !ok || strings.ContainsAny(scheme, "@:/") {
			return "(unparseable url)"
		}
		return scheme + "://(unparseable url)"
	}
	return u.Redacted()
}

// scrub removes the configured password and the raw URL from a message,
// for errors from libraries that may quote either.
func scrub(msg string, opts Options) string {
	if opts.URL != "" {
		// url.Error quotes the URL with %q.
		quoted := strconv.Quote(opts.URL)
		msg = strings.ReplaceAll(msg, quoted[1:len(quoted)-1], RedactURL(opts.URL))
		msg = strings.ReplaceAll(msg, opts.URL, RedactURL(opts.URL))
		if u, err := url.Parse(opts.URL); err == nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	if opts.Password != "" {
		msg = strings.ReplaceAll(msg, opts.Password, "xxxxx")
	}
	return msg
}

// redactedError prints a scrubbed message but keeps the cause for
// errors.Is (context.DeadlineExceeded, net errors).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

const fakePassword = "sk_test_FAKEredispw"

// serverAddr is host:port of the test Redis.
func serverAddr(t *testing.T) (redis.UniversalClient, string, string) {
	t.Helper()
	client, prefix := storetest.Redis(t)
	c, ok := client.(*redis.Client)
	if !ok {
		t.Skip("Open tests need a single-server REDIS_URL")
	}
	return client, prefix, c.Options().Addr
}

func TestOpenURLAndAddrs(t *testing.T) {
	client, prefix, addr := serverAddr(t)
	ctx := context.Background()
	for name, opts := range map[string]redisstore.Options{
		"url":   {URL: "redis://" + addr, KeyPrefix: prefix},
		"addrs": {Addrs: []string{addr}, KeyPrefix: prefix},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := redisstore.Open(ctx, opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			r := storetest.Result("prod", "open-"+name, 0)
			if err := s.PutResult(ctx, r); err != nil {
				t.Fatalf("PutResult: %v", err)
			}
			// Written under the prefix, through the store's own client.
			if n, err := client.Exists(ctx, prefix+"results:{prod/open-"+name+"}").Result(); err != nil || n != 1 {
				t.Errorf("result key exists = %d, %v; want 1", n, err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			// Open made the client, so Close must have closed it.
			if err := s.PutResult(ctx, r); !errors.Is(err, redis.ErrClosed) {
				t.Errorf("PutResult after Close = %v, want redis.ErrClosed", err)
			}
		})
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	_, _, addr := serverAddr(t)
	ctx := context.Background()
	cases := map[string]redisstore.Options{
		// The server refuses the user/password pair.
		"wrong password in url": {URL: "redis://credmon-nobody:" + fakePassword + "@" + addr},
		"wrong password field":  {URL: "redis://" + addr, Username: "credmon-nobody", Password: fakePassword},
		"unreachable":           {URL: "redis://:" + fakePassword + "@127.0.0.1:1", DialTimeout: time.Second},
		"bad port":              {URL: "redis://u:" + fakePassword + "@127.0.0.1:port/0"},
		"bad db":                {URL: "redis://u:" + fakePassword + "@127.0.0.1:6379/zero"},
		"bad scheme":            {URL: "http://u:" + fakePassword + "@127.0.0.1:6379"},
		"control character":     {URL: "redis://u:" + fakePassword + "\x7f@127.0.0.1:6379"},
		"url and addrs":         {URL: "redis://u:" + fakePassword + "@" + addr, Addrs: []string{addr}},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := redisstore.Open(ctx, opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "sk_test_FAKE") {
				t.Errorf("error reveals the password: %q", err)
			}
			if !strings.HasPrefix(err.Error(), "redisstore: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
		})
	}
}

func TestOpenErrorNamesServer(t *testing.T) {
	_, _, addr := serverAddr(t)
	_, err := redisstore.Open(context.Background(), redisstore.Options{
		URL: "redis://credmon-nobody:" + fakePassword + "@" + addr,
	})
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if want := "redis://credmon-nobody:xxxxx@" + addr; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://u:" + fakePassword + "@h:6379/0": "redis://u:xxxxx@h:6379/0",
		"rediss://:" + fakePassword + "@h":        "rediss://:xxxxx@h",
		"redis://h:6379":                          "redis://h:6379",
		"redis://u:" + fakePassword + "\x7f@h":    "redis://(unparseable url)",
		"u:" + fakePassword + "@h\x7f":            "(unparseable url)",
	} {
		if got := redisstore.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

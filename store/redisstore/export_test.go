package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// SetClock makes s read callers' times against now instead of time.Now:
// a replica whose clock is off from the Redis server's.
func SetClock(s *Store, now func() time.Time) { s.now = now }

// Client is the client s runs on: a test tells Cluster from Sentinel by it.
func Client(s *Store) redis.UniversalClient { return s.client }

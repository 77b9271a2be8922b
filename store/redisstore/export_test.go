package redisstore

import "time"

// SetClock makes s read callers' times against now instead of time.Now:
// a replica whose clock is off from the Redis server's.
func SetClock(s *Store, now func() time.Time) { s.now = now }

package redisstore

import (
	"context"
	"fmt"
)

// Ping checks that Redis answers: the cheap call a health probe makes
// (store/fallback uses it to notice Redis coming back).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

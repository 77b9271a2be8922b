package notify

import (
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		max     time.Duration
		want    time.Duration // before jitter
	}{
		{1, 5 * time.Minute, time.Second},
		{2, 5 * time.Minute, 2 * time.Second},
		{3, 5 * time.Minute, 4 * time.Second},
		{9, 5 * time.Minute, 256 * time.Second},
		{10, 5 * time.Minute, 5 * time.Minute},
		{1000, 5 * time.Minute, 5 * time.Minute},
		{0, 5 * time.Minute, time.Second},
		{3, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%v", tt.attempt, tt.max), func(t *testing.T) {
			for range 50 {
				got := Backoff(tt.attempt, tt.max)
				if got > tt.want || got < tt.want*4/5 {
					t.Fatalf("Backoff = %v, want within [%v, %v]", got, tt.want*4/5, tt.want)
				}
			}
		})
	}
}

func TestRetryAfterIsFoundThroughWrapping(t *testing.T) {
	err := fmt.Errorf("slack: %w", rateLimited{7 * time.Second})
	if d, ok := retryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("retryAfter = %v, %v; want 7s, true", d, ok)
	}
	if _, ok := retryAfter(fmt.Errorf("plain")); ok {
		t.Error("a plain error asked for a wait")
	}
	if _, ok := retryAfter(rateLimited{0}); ok {
		t.Error("a zero Retry-After must fall back to backoff")
	}
}

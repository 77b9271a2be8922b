// Package schedule runs jobs on cron schedules with aligned ticks, jitter, a
// concurrency cap, overlap skipping and panic recovery.
package schedule

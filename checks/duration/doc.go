// Package duration owns how credmon reads and writes durations: Go syntax
// plus a days term in config and schedules, and the coarse "3d 4h" people read.
package duration

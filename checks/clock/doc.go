// Package clock owns the local clock check: it asks several NTP servers, keeps
// the valid answers and reports clock_skew when our clock is off.
package clock

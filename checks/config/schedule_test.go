package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks/schedule"
)

// scheduleCases are specs with whether they are accepted and, when not, a
// part of the message both paths must give.
var scheduleCases = []struct {
	spec string
	ok   bool
	msg  string
}{
	{spec: "*/5 * * * *", ok: true},
	{spec: "30 */5 * * * *", ok: true}, // six fields: leading seconds
	{spec: "*/30 * * * * *", ok: true},
	{spec: "@hourly", ok: true},
	{spec: "@daily", ok: true},
	{spec: "@weekly", ok: true},
	{spec: "@monthly", ok: true},
	{spec: "@yearly", ok: true},
	{spec: "@midnight", ok: true},
	{spec: "@every 90s", ok: true},
	{spec: "@every 1d", ok: true}, // robfig's own @every refuses "d"
	{spec: "@every 1d12h", ok: true},
	{spec: "@every 10ms", ok: true}, // MinInterval
	{spec: "CRON_TZ=Europe/Berlin 0 9 * * *", ok: true},
	{spec: "TZ=Asia/Tokyo 30 8 * * 1-5", ok: true},
	{spec: "TZ=UTC @every 1h", ok: true},
	{spec: "CRON_TZ=Europe/Berlin @daily", ok: true},
	{spec: "@every 5ms", msg: "interval 5ms is below the minimum of 10ms"},
	{spec: "@every 0s", msg: "below the minimum"},
	{spec: "@every -1s", msg: `invalid duration "-1s"`},
	{spec: "@every soon", msg: `invalid duration "soon"`},
	{spec: "@every", msg: `want "@every DURATION"`},
	{spec: "@every 1m 2m", msg: `want "@every DURATION"`},
	{spec: "every five minutes", msg: "expected 5 to 6 fields, found 3"},
	{spec: "61 * * * *", msg: "61"},
	{spec: "* * * * * * *", msg: "expected 5 to 6 fields, found 7"},
	{spec: "@yearlyish", msg: "unrecognized descriptor"},
	{spec: "TZ=UTC", msg: "time zone without a schedule"},
	{spec: "CRON_TZ=Nowhere/Atlantis 0 9 * * *", msg: "Nowhere/Atlantis"},
	{spec: "TZ=Nowhere/Atlantis @every 1h", msg: "Nowhere/Atlantis"},
	{spec: "", msg: "empty schedule"},
	{spec: "   ", msg: "empty schedule"},
}

// TestValidateAndSchedulerAgree runs every spec through config validation
// (config text in, positioned errors out) and through Scheduler.Set, the
// path the daemon takes: a schedule that validates must run, and one that
// would not run must fail validation at its line.
func TestValidateAndSchedulerAgree(t *testing.T) {
	nop := func(context.Context, time.Time) {}
	for _, c := range scheduleCases {
		t.Run(fmt.Sprintf("%q", c.spec), func(t *testing.T) {
			// Line 6, column 19 is the opening quote of the value.
			text := fmt.Sprintf("store: {driver: memory}\nenvironments:\n  prod:\n    checks:\n      - name: a\n        schedule: %q\n        url: https://api.example.com/a\n", c.spec)
			_, verr := fakeEnv(nil).Parse("checks.yaml", []byte(text))

			s := schedule.New(schedule.Options{})
			serr := s.Set([]schedule.Job{{ID: "prod/a", Spec: c.spec, Run: nop}})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}

			if c.ok {
				if verr != nil {
					t.Errorf("validate refused it: %v", verr)
				}
				if serr != nil {
					t.Errorf("scheduler refused it: %v", serr)
				}
				return
			}
			if verr == nil || serr == nil {
				t.Fatalf("validate: %v; scheduler: %v; want both to refuse", verr, serr)
			}
			var ce *Error
			if !errors.As(verr, &ce) {
				t.Fatalf("validate error %v is not a *config.Error", verr)
			}
			if !errors.Is(verr, ErrInvalid) {
				t.Errorf("validate error %v does not wrap ErrInvalid", verr)
			}
			if ce.Pos.File != "checks.yaml" || ce.Pos.Line != 6 || ce.Path != "environments.prod.checks[0].schedule" {
				t.Errorf("validate error at %s %s, want checks.yaml:6 environments.prod.checks[0].schedule", ce.Pos, ce.Path)
			}
			for name, err := range map[string]error{"validate": verr, "scheduler": serr} {
				if !strings.Contains(err.Error(), c.msg) {
					t.Errorf("%s error %q does not say %q", name, err, c.msg)
				}
			}
		})
	}
}

// TestScheduleFieldsShareTheParser: scheduler.schedule and clock.schedule
// are read by the same parser as a check's schedule.
func TestScheduleFieldsShareTheParser(t *testing.T) {
	text := "store: {driver: memory}\nscheduler:\n  schedule: \"@every 5ms\"\nclock:\n  schedule: \"@every 1d\"\n"
	_, err := fakeEnv(nil).Parse("main.yaml", []byte(text))
	var ce *Error
	if !errors.As(err, &ce) || ce.Path != "scheduler.schedule" || ce.Pos.Line != 3 {
		t.Fatalf("error = %v, want scheduler.schedule at main.yaml:3", err)
	}
	if strings.Contains(err.Error(), "clock.schedule") {
		t.Errorf("clock.schedule \"@every 1d\" refused: %v", err)
	}
}

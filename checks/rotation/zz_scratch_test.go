package rotation_test
import ("testing";"time";"github.com/credmon/credmon/checks/config")
func TestZZShow(t *testing.T){
	api := newKeyAPI(t, keyA, keyB)
	c := cred(config.Literal(keyB), &config.Rotation{MaxAge: config.Duration(90*day), RotatedAt: "2026-03-01", Grace: config.Duration(48 * time.Hour)})
	c.Previous = config.Literal(keyA)
	clk := newClock(mustTime(t, "2026-03-02T00:00:00Z"))
	tr := newTracker(newKV(), clk)
	p := probeFor(t, c, api.URL, clk)
	for _, at := range []string{"2026-03-02T00:00:00Z", "2026-03-05T00:00:00Z", "2026-05-25T00:00:00Z", "2026-06-05T00:00:00Z"} {
		clk.Set(mustTime(t, at))
		ev := evaluate(t, tr, c, p)
		t.Logf("%s: %s band=%s\n  D: %s\n  H: %s\n  F: %+v", at, ev.Rotation.Cause, ev.Rotation.Band, ev.Rotation.Detail, ev.Rotation.Hint, ev.Rotation.Findings)
	}
	api.Accept(keyB)
	ev := evaluate(t, tr, c, p)
	t.Logf("%s D: %s\n H: %s", ev.Rotation.Cause, ev.Rotation.Detail, ev.Rotation.Hint)
	c.Rotation.RotatedAt = "auto"
	ev = evaluate(t, tr, c, p)
	t.Logf("%s D: %s\n H: %s", ev.Rotation.Cause, ev.Rotation.Detail, ev.Rotation.Hint)
	ex := config.Time{Time: mustTime(t, "2026-06-10")}
	c.ExpiresAt = &ex
	ev = evaluate(t, tr, c, p)
	t.Logf("%s D: %s\n H: %s", ev.Expiry.Cause, ev.Expiry.Detail, ev.Expiry.Hint)
}

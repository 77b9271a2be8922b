package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/bench/alerts/fakeslack"
	"github.com/credmon/credmon/notify"
)

// doomed is the child replica's name; the fake stalls its requests.
const doomed = "doomed"

// held is an outbox entry the killed replica had leased.
type held struct {
	entryID  string
	leasedAt time.Duration // on the fake's clock
	msg      notify.Message
}

// runKill is scenario 2: a replica leases the outbox's due entries, hangs
// on Slack and is SIGKILLed; a survivor must deliver what it held once the
// leases expire, and nothing twice.
func runKill(ctx context.Context, o options) (bool, error) {
	w := os.Stdout
	title := fmt.Sprintf("Scenario 2 — a replica SIGKILLed mid-delivery (lease %s, poll %s)", o.lease, o.poll)
	if o.storeKind != "redis" {
		underline(w, title)
		fmt.Fprintln(w, "skipped: the replicas are two processes and share the outbox only through -store redis")
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	st, prefix, cleanup, err := openStore(ctx, "redis", o.redisURL, "")
	if err != nil {
		return false, err
	}
	defer cleanup()
	fake := fakeslack.New(fakeslack.Options{Token: botToken, StallReplica: doomed})
	defer fake.Close()
	log := logger(o.verbose)
	n, err := newNotifier(fake.APIURL(), st, nil, log)
	if err != nil {
		return false, err
	}
	msgs := fakeslack.Incidents(o.incidents, sinceBase)
	byEntry := make(map[string]notify.Message, len(msgs))
	d := notify.NewDispatcher(st, []notify.Notifier{n}, notify.DispatcherOptions{
		Owner: "bench-survivor", Lease: o.lease, Poll: o.poll, Logger: log,
	})
	for _, m := range msgs {
		byEntry[m.ID+"/"+n.Name()] = m
		if err := d.Enqueue(ctx, m); err != nil {
			return false, err
		}
	}

	exe, err := os.Executable()
	if err != nil {
		return false, err
	}
	args := []string{"-role", "dispatcher", "-prefix", prefix, "-slack-api", fake.APIURL(), "-replica", doomed,
		"-lease", o.lease.String(), "-poll", o.poll.String(), "-timeout", o.timeout.String()}
	if o.verbose {
		args = append(args, "-v")
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	// The URL goes by environment, not argv, where ps would show a password.
	cmd.Env = append(os.Environ(), "REDIS_URL="+o.redisURL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if o.verbose {
		cmd.Stderr = os.Stderr
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return false, err
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		return false, err
	}
	startedAt := fake.Since(time.Now())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-fake.FirstStalled():
	case err := <-exited:
		return false, fmt.Errorf("the child replica exited before reaching Slack: %v\n%s", err, errOut.String())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		return false, fmt.Errorf("the child replica never reached Slack: %w", ctx.Err())
	}
	killedAt := fake.Since(time.Now())
	if err := cmd.Process.Kill(); err != nil {
		return false, fmt.Errorf("SIGKILL: %w", err)
	}
	exitErr := <-exited
	hs, err := parseLeased(out.String(), fake, byEntry)
	if err != nil {
		return false, err
	}

	survivorAt := fake.Since(time.Now())
	runCtx, stopRun := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- d.Run(runCtx) }()
	waitErr := fake.Await(ctx, allAccepted(msgs))
	if waitErr == nil {
		waitErr = drained(ctx, st)
	}
	stopRun()
	<-stopped
	reqs := fake.Requests()

	underline(w, title)
	fmt.Fprintf(w, "outbox redis (key prefix %s); %d incidents × 4 messages = %d, all enqueued before the child started; real slack.Notifier (bot mode) in both replicas\n\n",
		prefix, o.incidents, len(msgs))
	fmt.Fprintln(w, "Events (t = seconds since the fake Slack started)")
	tw := table(w)
	fmt.Fprintf(tw, "  t+%s\tchild replica started (pid %d)\n", secs(startedAt), cmd.Process.Pid)
	if len(hs) > 0 {
		fmt.Fprintf(tw, "  t+%s\tchild leased %d entries\n", secs(hs[0].leasedAt), len(hs))
	}
	stalled := 0
	for _, r := range reqs {
		if r.Stalled {
			if stalled == 0 {
				fmt.Fprintf(tw, "  t+%s\tSlack received the child's first request (stalled: never answered)\n", secs(r.At))
			}
			stalled++
		}
	}
	fmt.Fprintf(tw, "  t+%s\tSIGKILL sent; child exited: %v\n", secs(killedAt), exitErr)
	fmt.Fprintf(tw, "  t+%s\tsurvivor dispatcher started\n", secs(survivorAt))
	tw.Flush()

	fmt.Fprintln(w, "\nTimeline (one line per Slack request)")
	printTimeline(w, reqs, true)
	fmt.Fprintln(w, "\nTotals")
	printTotals(w, fakeslack.Count(reqs))

	fmt.Fprintf(w, "\nMessages held by the killed replica: %d (its requests that reached Slack: %d, none answered)\n", len(hs), stalled)
	tw = table(w)
	fmt.Fprintln(tw, "  message\tleased\taccepted\tafter kill\tafter lease\taccepted times")
	v := fakeslack.Verify(msgs, reqs)
	lo, hi := time.Duration(-1), time.Duration(0)
	redelivered := 0
	for _, h := range hs {
		acc := firstAccepted(reqs, h.msg)
		if acc < 0 {
			fmt.Fprintf(tw, "  %s\tt+%s\t-\t-\t-\t%d\n", h.msg.IncidentKey+" "+string(h.msg.Event), secs(h.leasedAt), v.Accepted[h.msg.ID])
			continue
		}
		redelivered++
		after := acc - h.leasedAt
		if lo < 0 || after < lo {
			lo = after
		}
		hi = max(hi, after)
		fmt.Fprintf(tw, "  %s\tt+%s\tt+%s\t%ss\t%ss\t%d\n", h.msg.IncidentKey+" "+string(h.msg.Event),
			secs(h.leasedAt), secs(acc), secs(acc-killedAt), secs(after), v.Accepted[h.msg.ID])
	}
	tw.Flush()

	fmt.Fprintln(w, "\nChecks")
	c := newChecks(w)
	c.add(len(hs) > 0, "the killed replica held leases when it died (%d entries)", len(hs))
	c.add(waitErr == nil, "every message delivered within %s and the outbox empty", o.timeout)
	if waitErr != nil {
		c.detail([]string{waitErr.Error()})
	}
	verdictChecks(c, msgs, v)
	// Never before the lease (two replicas would send at once), and not
	// much after: the survivor polls, so it may notice up to a poll late.
	allowance := o.poll + 2*time.Second
	c.add(redelivered == len(hs) && lo >= o.lease-inFlightGrace && hi <= o.lease+allowance,
		"held messages redelivered after ≈ the lease: %ss…%ss after their lease began (lease %s, allowed up to +%s)",
		secs(max(lo, 0)), secs(hi), o.lease, allowance)
	return c.ok, nil
}

// parseLeased reads the child's "leased UNIXNANO ID" lines.
func parseLeased(out string, fake *fakeslack.Server, byEntry map[string]notify.Message) ([]held, error) {
	var hs []held
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "leased" {
			continue
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("child output %q: %w", sc.Text(), err)
		}
		m, ok := byEntry[f[2]]
		if !ok {
			return nil, fmt.Errorf("child leased %q, which was never enqueued", f[2])
		}
		hs = append(hs, held{entryID: f[2], leasedAt: fake.Since(time.Unix(0, ns)), msg: m})
	}
	if len(hs) == 0 {
		return nil, errors.New("the child replica reported no leases")
	}
	return hs, sc.Err()
}

// firstAccepted is when Slack first accepted m, or -1.
func firstAccepted(reqs []fakeslack.Request, m notify.Message) time.Duration {
	for _, r := range reqs {
		if r.Accepted && r.Method == "chat.postMessage" && r.Incident == m.IncidentKey && r.Event == m.Event {
			return r.At
		}
	}
	return -1
}

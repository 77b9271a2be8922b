package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
)

// The outbox is three kinds of key, all in one Cluster slot by the
// {outbox} hash tag so every script runs on one node:
//
//	PREFIX outbox:{outbox}:entries        hash: id → record JSON (the entry and its lease)
//	PREFIX outbox:{outbox}:group:GROUP    list: the group's ids in enqueue order; the first is its head
//	PREFIX outbox:{outbox}:ready          sorted set: group → when its head may next be
//	                                      leased, in Unix ms (its NotBefore, or its
//	                                      lease expiry while leased)
//	PREFIX outbox:{outbox}:delivered      sorted set: id → when it was acked, in Unix ms;
//	                                      kept store.DeliveredKept, trimmed by each ack
//
// Each call is one Lua script, so one round trip and atomic across
// replicas: no entry is ever leased to two owners at once. Time is the
// Redis server's (TIME), so replicas with skewed clocks agree on when a
// lease expires and when an entry is due: a caller's NotBefore travels as
// a delay from the caller's own now, and the script adds it to the
// server's. Mixing the two clocks would hold a replica's retries back (or
// let them out early) by however far its clock is from Redis's. Lease reads the group keys it finds in the ready set,
// which Cluster allows because they share the slot of the declared keys.
//
// Redis Streams with a consumer group and XAUTOCLAIM were the alternative:
// they give leases and takeover, but neither per-group order (a stream
// hands out entry 2 while entry 1 waits for a retry) nor a NotBefore, so
// deferral would need a second structure and a mover anyway.

func (s *Store) outboxKey(name string) string { return s.prefix + "outbox:{outbox}:" + name }

// outboxRecord is an entry as the scripts see it. The entry itself is
// opaque to Lua (E); the fields a script reads or changes sit beside it
// and win over their copies inside E.
type outboxRecord struct {
	Entry     string `json:"e"`  // store.OutboxEntry JSON as enqueued
	Group     string `json:"g"`  // names the group's list
	Attempts  int    `json:"a"`  // counted by Defer
	NotBefore string `json:"n"`  // RFC 3339 with nanoseconds, or ""
	DueMS     int64  `json:"nb"` // when it is due, in server Unix ms, for the ready set
	Owner     string `json:"o"`  // lease holder; kept after expiry until someone else leases
	UntilMS   int64  `json:"u"`  // lease expiry in server Unix ms
}

// maxMS keeps times the scripts handle below 10^13 ms (the year 2286):
// Lua prints numbers with 14 significant digits, and a score or a JSON
// number with more would lose its last ones.
const maxMS = 1e13 - 1

const maxLeaseMS = 1e12

// delayMS is how long from now (the caller's clock) until t, in ms rounded
// up so an entry is never handed out before its NotBefore; zero (a zero or
// past t) is "due now". The scripts add it to the server's time.
func delayMS(t, now time.Time) int64 {
	if t.IsZero() || !t.After(now) {
		return 0
	}
	d := t.Sub(now)
	return min((d + time.Millisecond - 1).Milliseconds(), maxLeaseMS)
}

func formatNotBefore(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// nowMS is a script prologue: the server's time in Unix ms, and record,
// which decodes a stored record or returns nil for one that does not read
// (not JSON, or a field a script uses missing or of another type, or a
// time no score can hold): one damaged record must not fail every
// script that meets it.
var nowMS = `
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(v)
  return type(v) == 'number' and v >= 0 and v <= ` + strconv.FormatInt(maxMS, 10) + `
end
local function record(raw)
  local ok, r = pcall(cjson.decode, raw)
  if ok and type(r) == 'table' and type(r.e) == 'string' and type(r.g) == 'string' and
     type(r.o) == 'string' and type(r.n) == 'string' and ms(r.a) and ms(r.nb) and ms(r.u) then
    return r
  end
end
`

// KEYS: entries, ready, the group's list, delivered. ARGV: id, record,
// group, delay ms. The record's nb is set here, in server time.
var enqueueScript = redis.NewScript(nowMS + `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
local r = cjson.decode(ARGV[2])
local due = 0
if tonumber(ARGV[4]) > 0 then due = nowms() + tonumber(ARGV[4]) end
r.nb = due
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
if redis.call('RPUSH', KEYS[3], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], math.max(due, nowms()), ARGV[3])
end
return 1
`)

// KEYS: entries, ready. ARGV: group list key prefix, owner, n, lease ms.
// Returns each leased head's ID and record, or its ID and "" for a head
// whose record does not read (or is another group's): that group is held
// back a lease, as if leased to no one. The checks on the head repeat
// what the ready score already says, so a set damaged by hand heals
// instead of double-leasing.
var leaseScript = redis.NewScript(nowMS + `
local now = nowms()
local expiry = now + tonumber(ARGV[4])
local groups = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, g in ipairs(groups) do
  local list = ARGV[1] .. g
  local id = redis.call('LINDEX', list, 0)
  if not id then
    redis.call('ZREM', KEYS[2], g)
  else
    local raw = redis.call('HGET', KEYS[1], id)
    if not raw then
      redis.call('LPOP', list)
      redis.call('ZADD', KEYS[2], now, g)
    else
      local r = record(raw)
      if not r or r.g ~= g then
        redis.call('ZADD', KEYS[2], expiry, g)
        out[#out + 1] = id
        out[#out + 1] = ''
      elseif r.o ~= '' and r.u > now then
        redis.call('ZADD', KEYS[2], r.u, g)
      elseif r.nb > now then
        redis.call('ZADD', KEYS[2], r.nb, g)
      else
        r.o = ARGV[2]
        r.u = expiry
        local ok, enc = pcall(cjson.encode, r)
        if ok then
          redis.call('HSET', KEYS[1], id, enc)
        else
          enc = ''
        end
        redis.call('ZADD', KEYS[2], expiry, g)
        out[#out + 1] = id
        out[#out + 1] = enc
      end
    end
  end
end
return out
`)

// KEYS: entries, ready, delivered. ARGV: group list key prefix, id,
// owner, how long delivered IDs are kept in ms.
// Returns 1 acked, 0 gone, -1 held by another owner.
var ackScript = redis.NewScript(nowMS + `
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return 0 end
local r = record(raw)
if not r or ARGV[3] == '' or r.o ~= ARGV[3] then return -1 end
local list = ARGV[1] .. r.g
redis.call('LREM', list, 1, ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[2])
local acked = nowms()
redis.call('ZADD', KEYS[3], acked, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', acked - tonumber(ARGV[4]))
local nextid = redis.call('LINDEX', list, 0)
if not nextid then
  redis.call('ZREM', KEYS[2], r.g)
  return 1
end
local due = nowms()
local nextraw = redis.call('HGET', KEYS[1], nextid)
-- A next record that does not read is due now, for Lease to report:
-- failing this Ack would send the delivered message again.
local nr = nextraw and record(nextraw)
if nr then due = math.max(due, nr.nb) end
redis.call('ZADD', KEYS[2], due, r.g)
return 1
`)

// KEYS: entries, ready. ARGV: id, owner, delay ms, NotBefore text.
// Returns as ackScript.
var deferScript = redis.NewScript(nowMS + `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local r = record(raw)
if not r or ARGV[2] == '' or r.o ~= ARGV[2] then return -1 end
r.a = r.a + 1
r.nb = 0
if tonumber(ARGV[3]) > 0 then r.nb = nowms() + tonumber(ARGV[3]) end
r.n = ARGV[4]
r.o = ''
r.u = 0
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
redis.call('ZADD', KEYS[2], math.max(r.nb, nowms()), r.g)
return 1
`)

// Enqueue adds e unless an entry with its ID is already present.
func (s *Store) Enqueue(ctx context.Context, e store.OutboxEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.ID == "" {
		return store.ErrNoID
	}
	// JSON would turn invalid UTF-8 into U+FFFD: the ID handed back could
	// not be acked, and the group would name another list.
	if !utf8.ValidString(e.ID) || !utf8.ValidString(e.Group) {
		return fmt.Errorf("redisstore: enqueue outbox entry %q: id and group must be UTF-8", e.ID)
	}
	if e.Enqueued.IsZero() {
		e.Enqueued = time.Now()
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redisstore: encode outbox entry %s: %w", e.ID, err)
	}
	rec, err := json.Marshal(outboxRecord{
		Entry:     string(body),
		Group:     e.Group,
		Attempts:  e.Attempts,
		NotBefore: formatNotBefore(e.NotBefore),
	})
	if err != nil {
		return fmt.Errorf("redisstore: encode outbox entry %s: %w", e.ID, err)
	}
	keys := []string{s.outboxKey("entries"), s.outboxKey("ready"), s.outboxKey("group:" + e.Group), s.outboxKey("delivered")}
	if err := s.script(ctx, enqueueScript, keys, e.ID, rec, e.Group, delayMS(e.NotBefore, s.clock())).Err(); err != nil {
		return fmt.Errorf("redisstore: enqueue outbox entry %s: %w", e.ID, err)
	}
	return nil
}

// Lease hands owner the heads of up to n ready groups for lease.
func (s *Store) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if owner == "" {
		return nil, errors.New("redisstore: lease needs an owner")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("redisstore: lease %v must be positive", lease)
	}
	if n <= 0 {
		return nil, nil
	}
	// At least 1 ms, or a sub-millisecond lease would expire as it starts;
	// at most 30 years, so the expiry stays below maxMS.
	ms := min(max(lease.Milliseconds(), 1), maxLeaseMS)
	keys := []string{s.outboxKey("entries"), s.outboxKey("ready")}
	raw, err := s.script(ctx, leaseScript, keys, s.outboxKey("group:"), owner, n, ms).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: lease outbox entries: %w", err)
	}
	out := make([]store.OutboxEntry, 0, len(raw)/2)
	damage := store.Damage{What: store.StoredOutbox}
	for i := 0; i+1 < len(raw); i += 2 {
		// One that does not read here is leased all the same: it comes
		// back after the lease and is reported again, once a lease.
		e, err := decodeOutboxRecord(raw[i], raw[i+1])
		if err != nil {
			damage.Add(raw[i], err)
			continue
		}
		out = append(out, e)
	}
	return out, damage.Err()
}

// decodeOutboxRecord decodes the record of entry id as a script returns
// it; "" is one the script could not read. An entry that is not id, or
// not of the group the record is queued in, is damage too: it would be
// acked under another ID, or from another group's list.
func decodeOutboxRecord(id, raw string) (store.OutboxEntry, error) {
	var rec outboxRecord
	var e store.OutboxEntry
	if raw == "" {
		return e, fmt.Errorf("decode outbox entry %q: the record is not one a script reads", id)
	}
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return e, fmt.Errorf("decode outbox entry %q: %w", id, err)
	}
	if err := json.Unmarshal([]byte(rec.Entry), &e); err != nil {
		return e, fmt.Errorf("decode outbox entry %q: %w", id, err)
	}
	if e.ID != id || e.Group != rec.Group {
		return e, fmt.Errorf("decode outbox entry %q: the record is of entry %q in group %q, queued in group %q", id, e.ID, e.Group, rec.Group)
	}
	e.Attempts = rec.Attempts
	e.NotBefore = time.Time{}
	if rec.NotBefore != "" {
		t, err := time.Parse(time.RFC3339Nano, rec.NotBefore)
		if err != nil {
			return e, fmt.Errorf("decode outbox entry %q: not_before: %w", id, err)
		}
		e.NotBefore = t
	}
	return e, nil
}

// Ack removes id if owner still holds it and readies its group's next.
func (s *Store) Ack(ctx context.Context, id, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys := []string{s.outboxKey("entries"), s.outboxKey("ready"), s.outboxKey("delivered")}
	retried := false
	res, err := settle(ctx, func() (int, error) {
		res, err := s.script(ctx, ackScript, keys, s.outboxKey("group:"), id, owner, store.DeliveredKept.Milliseconds()).Int()
		if retried && err == nil && res == 0 {
			// Gone after an attempt that may have run (its reply lost, or
			// not yet confirmed by a replica): most likely that attempt's
			// doing, and either way nothing is left to settle.
			res = 1
		}
		retried = true
		return res, err
	})
	if err != nil {
		return fmt.Errorf("redisstore: ack outbox entry %s: %w", id, err)
	}
	return leaseResult("ack", id, owner, res)
}

// Defer releases id for another attempt at notBefore if owner still holds it.
func (s *Store) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys := []string{s.outboxKey("entries"), s.outboxKey("ready")}
	res, err := settle(ctx, func() (int, error) {
		return s.script(ctx, deferScript, keys, id, owner, delayMS(notBefore, s.clock()), formatNotBefore(notBefore)).Int()
	})
	if err != nil {
		return fmt.Errorf("redisstore: defer outbox entry %s: %w", id, err)
	}
	return leaseResult("defer", id, owner, res)
}

// settleFor bounds how long Ack and Defer keep retrying through an
// outage; settleBackoff is their first pause, doubled up to settleMaxPause.
const (
	settleFor      = 5 * time.Second
	settleBackoff  = 20 * time.Millisecond
	settleMaxPause = 500 * time.Millisecond
)

// settle runs an Ack or Defer script, retrying while Redis is unreachable
// for up to settleFor (or ctx). A Sentinel failover takes seconds, longer
// than go-redis's own few retries; an Ack lost in it would leave the
// entry leased, and the message would be sent again when the lease ran
// out. Both scripts are safe to repeat: a retry of an Ack that did run
// finds the entry gone, which Ack then takes as done; a retried Defer
// finds the entry released and says the lease is lost.
func settle(ctx context.Context, run func() (int, error)) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, settleFor)
	defer cancel()
	pause := settleBackoff
	for {
		res, err := run()
		if err == nil || !Unreachable(err) || ctx.Err() != nil {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(pause):
		}
		pause = min(2*pause, settleMaxPause)
	}
}

// leaseResult turns an ack or defer script's answer into an error.
func leaseResult(op, id, owner string, res int) error {
	switch res {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("redisstore: %s outbox entry %s: entry is gone: %w", op, id, store.ErrLeaseLost)
	default:
		return fmt.Errorf("redisstore: %s outbox entry %s: not leased to %s: %w", op, id, owner, store.ErrLeaseLost)
	}
}

// Depth counts undelivered entries.
func (s *Store) Depth(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.client.HLen(ctx, s.outboxKey("entries")).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: outbox depth: %w", err)
	}
	return int(n), nil
}

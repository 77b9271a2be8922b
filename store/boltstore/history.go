package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credmon/credmon/checks"
)

// A check's history is one value: its kept results, newest first, each a
// record that names only what differs from the next newer one. Ten
// results of one check repeat the same names, identity and detail; as
// JSON in a bucket of their own they took two 4 KiB pages a check, all
// of them mapped, so the file's resident pages were most of the daemon's
// memory at 10,000 checks and more. As records ten ok runs take 0.5 KiB,
// several checks to a page, and one write touches one value.
//
//	value  = historyVersion record*
//	record = uvarint(len(body)) body
//	body   = time(started) time(tick) varint(latency)
//	         varint(server_time_offset) varint(http_status)
//	         text(kind) … text(hint) rest
//	time   = varint(unix seconds) uvarint(nanoseconds) varint(zone offset seconds)
//	text   = uvarint(0): same as the newer record | uvarint(len+1) bytes
//	rest   = uvarint(0): same as the newer record | uvarint(1): none
//	       | uvarint(len+2) JSON of the result without the fields above
//
// rest carries whatever else a Result holds (findings, band, challenge,
// token) through its JSON encoding, so a field added to checks.Result is
// stored without touching this file.
const historyVersion = 1

// errHistory reports a value this version cannot read.
var errHistory = errors.New("damaged history value")

// textFields are the string fields a record stores directly, in order.
var textFields = []func(*checks.Result) *string{
	func(r *checks.Result) *string { return (*string)(&r.Kind) },
	func(r *checks.Result) *string { return &r.Env },
	func(r *checks.Result) *string { return &r.Check },
	func(r *checks.Result) *string { return &r.Credential },
	func(r *checks.Result) *string { return &r.Concern },
	func(r *checks.Result) *string { return &r.Identity },
	func(r *checks.Result) *string { return &r.RunBy },
	func(r *checks.Result) *string { return (*string)(&r.Status) },
	func(r *checks.Result) *string { return (*string)(&r.Cause) },
	func(r *checks.Result) *string { return &r.Detail },
	func(r *checks.Result) *string { return &r.Hint },
}

// emptyRest is the JSON of a result whose rest is unset, the usual case.
var emptyRest = func() []byte {
	b, err := json.Marshal(withoutCore(checks.Result{}))
	if err != nil {
		panic(err)
	}
	return b
}()

// setCore sets the fields a record stores directly (its core: the times,
// the numbers and textFields) of dst to those of src, and leaves the rest.
func setCore(dst, src *checks.Result) {
	dst.Started, dst.Tick = src.Started, src.Tick
	dst.Latency, dst.ServerTimeOffset, dst.HTTPStatus = src.Latency, src.ServerTimeOffset, src.HTTPStatus
	for _, f := range textFields {
		*f(dst) = *f(src)
	}
}

// withoutCore is r without the fields a record stores directly.
func withoutCore(r checks.Result) checks.Result {
	setCore(&r, &checks.Result{})
	return r
}

// record is one decoded result with its rest as stored.
type record struct {
	r    checks.Result
	rest []byte // JSON, or nil for none
}

func newRecord(r checks.Result) (record, error) {
	rest, err := json.Marshal(withoutCore(r))
	if err != nil {
		return record{}, err
	}
	if string(rest) == string(emptyRest) {
		rest = nil
	}
	return record{r: r, rest: rest}, nil
}

// encodeHistory is the history value of recs, newest first: each record
// relative to the one before it. It is the one encoder of whole values.
func encodeHistory(recs []record) []byte {
	out := []byte{historyVersion}
	var newer *record
	for i := range recs {
		out = appendRecord(out, &recs[i], newer)
		newer = &recs[i]
	}
	return out
}

// appendRecord appends rec's length-prefixed body, relative to newer
// (nil for the newest).
func appendRecord(dst []byte, rec, newer *record) []byte {
	var body [512]byte
	b := body[:0]
	b = appendTime(b, rec.r.Started)
	b = appendTime(b, rec.r.Tick)
	b = binary.AppendVarint(b, int64(rec.r.Latency))
	b = binary.AppendVarint(b, int64(rec.r.ServerTimeOffset))
	b = binary.AppendVarint(b, int64(rec.r.HTTPStatus))
	for _, f := range textFields {
		s := *f(&rec.r)
		if newer != nil && *f(&newer.r) == s {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(s))+1)
		b = append(b, s...)
	}
	switch {
	case newer != nil && string(newer.rest) == string(rec.rest):
		b = append(b, 0)
	case rec.rest == nil:
		b = append(b, 1)
	default:
		b = binary.AppendUvarint(b, uint64(len(rec.rest))+2)
		b = append(b, rec.rest...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendTime(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off))
}

// historyReader walks a history value record by record, newest first.
type historyReader struct {
	data      []byte
	prev, cur record // cur is where next decodes: a local would be on the heap
	first     bool
	err       error
}

func readHistory(v []byte) *historyReader {
	h := &historyReader{first: true}
	if len(v) == 0 || v[0] != historyVersion {
		h.err = fmt.Errorf("%w: version %v", errHistory, v[:min(len(v), 1)])
		return h
	}
	h.data = v[1:]
	return h
}

// nextFrame splits the first record off data: its body and what follows
// it. It is the one reader of record frames.
func nextFrame(data []byte) (body, rest []byte, err error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || uint64(len(data)-k) < n {
		return nil, data, fmt.Errorf("%w: record frame", errHistory)
	}
	return data[k : k+int(n)], data[k+int(n):], nil
}

// next decodes the next record; rest JSON is decoded only with full. The
// record's strings are copies: v may live in bolt's mmap. A record that
// does not decode stops the reader with err set and raw still at it.
func (h *historyReader) next(full bool) (record, bool) {
	if h.err != nil || len(h.data) == 0 {
		return record{}, false
	}
	body, after, err := nextFrame(h.data)
	if err != nil {
		h.err = err
		return record{}, false
	}
	d := decoder{b: body}
	rec := &h.cur
	*rec = record{}
	rec.r.Started = d.time()
	rec.r.Tick = d.time()
	rec.r.Latency = time.Duration(d.varint())
	rec.r.ServerTimeOffset = time.Duration(d.varint())
	rec.r.HTTPStatus = int(d.varint())
	for _, f := range textFields {
		switch l := d.uvarint(); {
		case l == 0 && !h.first:
			*f(&rec.r) = *f(&h.prev.r)
		case l == 0:
			d.fail()
		default:
			*f(&rec.r) = string(d.bytes(int(l - 1)))
		}
	}
	switch l := d.uvarint(); {
	case l == 0 && !h.first:
		rec.rest = h.prev.rest
	case l == 0:
		d.fail()
	case l == 1:
	default:
		// Checked as it is met, so that a write (which decodes no rest)
		// keeps no record a full read would stop on.
		if rec.rest = append([]byte(nil), d.bytes(int(l-2))...); !json.Valid(rec.rest) {
			d.fail()
		}
	}
	if d.err != nil || len(d.b) != 0 {
		h.err = errHistory
		return record{}, false
	}
	if full && rec.rest != nil {
		// A field of another type (another version's record) leaves it
		// unset and the record read: json decodes every other field.
		var r checks.Result
		var typeErr *json.UnmarshalTypeError
		if err := json.Unmarshal(rec.rest, &r); err != nil && !errors.As(err, &typeErr) {
			h.err = fmt.Errorf("%w: %v", errHistory, err)
			return record{}, false
		}
		setCore(&r, &rec.r)
		rec.r = r
	}
	h.data = after
	h.prev, h.first = *rec, false
	return *rec, true
}

// raw returns the undecoded rest of the value: the records after the
// last one read, still relative to it (from the damaged one on, once next
// has stopped on one).
func (h *historyReader) raw() []byte { return h.data }

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errHistory
	}
	d.b = nil
}

// varint reads what binary.AppendVarint wrote: the zig-zag encoding of
// a signed number (0, -1, 1, -2, … as 0, 1, 2, 3, …) as a uvarint.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) uvarint() uint64 {
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// time reads what appendTime wrote, in the location a JSON round trip
// gives: UTC for offset 0, Local where its offset matches, else a fixed
// zone.
func (d *decoder) time() time.Time {
	sec, nsec, off := d.varint(), d.uvarint(), d.varint()
	if nsec >= 1e9 {
		d.fail()
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	if _, local := t.Zone(); int64(local) == off {
		return t
	}
	return t.In(time.FixedZone("", int(off)))
}

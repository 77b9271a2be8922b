package clock_test

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// ntpEpochOffset is the seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix).
const ntpEpochOffset = 2208988800

// behaviour is how a fake NTP server answers.
type behaviour int

const (
	answer      behaviour = iota // an NTPv4 server reply with the chosen offset
	kissOfDeath                  // stratum 0, reference id "RATE"
	silent                       // reads requests, never answers
	unsynced                     // leap indicator 3: the server's clock is not synchronised
)

// fakeNTP is a real UDP NTP server on loopback whose clock runs offset
// ahead of ours.
type fakeNTP struct {
	conn   net.PacketConn
	offset time.Duration
	mode   behaviour
	wg     sync.WaitGroup
}

func startNTP(t *testing.T, offset time.Duration, mode behaviour) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	s := &fakeNTP{conn: conn, offset: offset, mode: mode}
	s.wg.Go(s.serve)
	t.Cleanup(func() {
		conn.Close()
		s.wg.Wait()
	})
	return conn.LocalAddr().String()
}

func (s *fakeNTP) serve() {
	buf := make([]byte, 512)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		if n < 48 || s.mode == silent {
			continue
		}
		_, _ = s.conn.WriteTo(s.reply(buf[:48]), addr)
	}
}

func (s *fakeNTP) reply(req []byte) []byte {
	now := time.Now().Add(s.offset)
	const version, serverMode = 4, 4
	leap, stratum, refID := byte(0), byte(2), []byte("TEST")
	switch s.mode {
	case kissOfDeath:
		stratum, refID = 0, []byte("RATE")
	case unsynced:
		leap = 3
	}
	p := make([]byte, 48)
	p[0] = leap<<6 | version<<3 | serverMode
	p[1] = stratum
	p[2] = 6                                 // poll
	p[3] = 0xEC                              // precision 2^-20
	copy(p[12:16], refID)                    // root delay and dispersion stay 0
	putTime(p[16:24], now.Add(-time.Minute)) // reference: last synchronised
	copy(p[24:32], req[40:48])               // origin: the client's transmit field, echoed
	putTime(p[32:40], now)                   // receive
	putTime(p[40:48], now)                   // transmit
	return p
}

func putTime(b []byte, t time.Time) {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint64(b, secs<<32|frac)
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// targetStats is what the target process reports on a "stats" line: what it
// saw, counted where it cannot be flattered by the program under test.
type targetStats struct {
	requests, ok, accepts int64
	distinct              int   // distinct paths requested (one per check)
	lastFirst             int64 // unix ns of the latest first request of a path
}

// countingListener counts accepted TCP connections: a client that reuses
// its connections opens a handful, one that does not opens one per probe.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// serveTarget is the API under probe: it checks the key like a real API.
// It prints its address, then answers each "stats" line on stdin with its
// counters; it exits when stdin closes.
func serveTarget() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	var (
		accepts, requests, ok atomic.Int64
		mu                    sync.Mutex
		seen                  = map[string]struct{}{}
		lastFirst             int64
	)
	fmt.Println(ln.Addr().String())
	go func() {
		_ = http.Serve(countingListener{ln, &accepts}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			mu.Lock()
			if _, dup := seen[r.URL.Path]; !dup {
				seen[r.URL.Path] = struct{}{}
				lastFirst = time.Now().UnixNano()
			}
			mu.Unlock()
			if r.Header.Get("Authorization") != "Bearer "+benchKey {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			ok.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		}))
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		mu.Lock()
		d, lf := len(seen), lastFirst
		mu.Unlock()
		fmt.Printf("%d %d %d %d %d\n", requests.Load(), ok.Load(), accepts.Load(), d, lf)
	}
}

// target is the driver's handle on a target process.
type target struct {
	addr string
	in   io.WriteCloser
	out  *bufio.Scanner
	stop func()
}

func (t *target) stats() (targetStats, error) {
	var s targetStats
	if _, err := io.WriteString(t.in, "stats\n"); err != nil {
		return s, err
	}
	if !t.out.Scan() {
		return s, fmt.Errorf("target exited: %v", t.out.Err())
	}
	_, err := fmt.Sscan(t.out.Text(), &s.requests, &s.ok, &s.accepts, &s.distinct, &s.lastFirst)
	return s, err
}

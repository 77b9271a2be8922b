package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// generous bounds waiting for something the server must do by itself; a
// server that never does it fails the test instead of hanging it.
const generous = 10 * time.Second

// listen serves h through NewServer and Serve on a real loopback listener,
// as the daemon does, and returns the address.
func listen(t *testing.T, h http.Handler, opts ServerOptions, webConfigFile string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ln, h, opts, webConfigFile)
	return ln.Addr().String()
}

// serveOn serves h on ln until the test ends.
func serveOn(t *testing.T, ln net.Listener, h http.Handler, opts ServerOptions, webConfigFile string) {
	t.Helper()
	srv := NewServer(h, ln.Addr(), opts)
	done := make(chan error, 1)
	go func() { done <- Serve(ln, srv, webConfigFile, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNewServerDefaults(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), nil, ServerOptions{})
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout, 10 * time.Second},
		{"ReadTimeout", srv.ReadTimeout, 30 * time.Second},
		{"WriteTimeout", srv.WriteTimeout, 60 * time.Second},
		{"IdleTimeout", srv.IdleTimeout, 2 * time.Minute},
		{"MaxHeaderBytes", srv.MaxHeaderBytes, 64 << 10},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if srv.BaseContext == nil || srv.BaseContext(nil) == nil {
		t.Error("no base context")
	}
}

// A keep-alive connection left idle is closed by the server. Every other
// timeout stays at its default (30 s and more), so only IdleTimeout can
// close it within the client's deadline.
func TestIdleConnectionClosed(t *testing.T) {
	addr := listen(t, NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil), ServerOptions{IdleTimeout: 100 * time.Millisecond}, "")
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close || string(body) != "ok\n" {
		t.Fatalf("first response: %d close=%v %q; want a 200 on a kept-alive connection", resp.StatusCode, resp.Close, body)
	}
	if err := c.SetReadDeadline(time.Now().Add(generous)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read returned %v, want EOF (closed by the server)", err)
	}
}

// A body that keeps arriving, a byte at a time, is still cut at
// ReadTimeout: the bound is on the whole request, not on each read.
func TestTricklingBodyCut(t *testing.T) {
	bodyErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		bodyErr <- err
	})
	const readTimeout = 300 * time.Millisecond
	addr := listen(t, h, ServerOptions{ReadTimeout: readTimeout}, "")
	c := dial(t, addr)
	if _, err := io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// The workload, not synchronisation: a byte well inside every
		// per-read timeout, so only a whole-request bound can cut it.
		tick := time.NewTicker(readTimeout / 6)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	select {
	case err := <-bodyErr:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("body read ended with %v, want the read deadline", err)
		}
	case <-time.After(generous):
		t.Fatal("a trickling body was still being read long after ReadTimeout")
	}
	if err := c.SetReadDeadline(time.Now().Add(generous)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open after cutting the body: %v", err)
	}
}

// Headers beyond MaxHeaderBytes get 431; the default leaves ample room for
// real requests.
func TestOversizedHeader(t *testing.T) {
	addr := listen(t, NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil), ServerOptions{}, "")
	client := &http.Client{Timeout: generous}
	for _, c := range []struct {
		size int
		want int
	}{
		{32 << 10, http.StatusOK},
		{100 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(fmt.Sprint(c.size), func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Filler", strings.Repeat("a", c.size))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%d-byte header: status %d, want %d", c.size, resp.StatusCode, c.want)
			}
		})
	}
}

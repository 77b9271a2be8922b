package web

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func getHost(t *testing.T, addr, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: generous}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// DNS rebinding: a page on evil.example re-points its name at 127.0.0.1;
// the browser then sends Host: evil.example to the loopback listener.
func TestLoopbackListenerRefusesForeignHost(t *testing.T) {
	addr := listen(t, NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil), ServerOptions{}, "")
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example", "localhost.evil.example", "[::2]:" + port, "10.0.0.1"} {
		code, body := getHost(t, addr, host)
		if code != http.StatusMisdirectedRequest || !strings.Contains(body, "misdirected") {
			t.Errorf("Host %s: %d %q, want 421 misdirected", host, code, body)
		}
	}
	for _, host := range []string{"localhost", "LocalHost:" + port, "127.0.0.1:" + port, "127.9.8.7", "[::1]:" + port, "[::1]"} {
		if code, body := getHost(t, addr, host); code != http.StatusOK || body != "ok\n" {
			t.Errorf("Host %s: %d %q, want 200", host, code, body)
		}
	}
}

// Bound to every interface, the server is meant to be reached by other
// names; the check would only break it.
func TestUnspecifiedListenerServesAnyHost(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ln, NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil), ServerOptions{}, "")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if code, body := getHost(t, net.JoinHostPort("127.0.0.1", port), "evil.example"); code != http.StatusOK {
		t.Errorf("0.0.0.0 listener, Host evil.example: %d %q, want 200", code, body)
	}
}

func TestHostCheckOnlyOnLoopback(t *testing.T) {
	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil)
	for _, c := range []struct {
		bound net.Addr
		want  int
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9464}, http.StatusMisdirectedRequest},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 9464}, http.StatusMisdirectedRequest},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 9464}, http.StatusOK},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9464}, http.StatusOK},
		{&net.UnixAddr{Name: "/run/credmon.sock", Net: "unix"}, http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Host = "evil.example"
		NewServer(h, c.bound, ServerOptions{}).Handler.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("bound to %s: Host evil.example got %d, want %d", c.bound, rec.Code, c.want)
		}
	}
}

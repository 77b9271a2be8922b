package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// loopbackOnly answers 421 to a request whose Host is not a loopback name.
// A listener on 127.0.0.1 is reachable from any web page the operator has
// open: a name the attacker controls can be re-pointed at 127.0.0.1 (DNS
// rebinding), and the browser then sends that name as Host.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "misdirected request: this server answers only to localhost, 127.0.0.1 or [::1]", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header, with or without a port,
// names this machine: localhost, 127.0.0.0/8 or ::1.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// isLoopbackAddr reports whether a listener is bound to a loopback
// address. An unspecified address (0.0.0.0, ::) is not: it is reachable
// by other names on purpose.
func isLoopbackAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

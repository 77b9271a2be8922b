package checks

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/credmon/credmon/checks/config"
)

// Transports shares one http.Transport per distinct TLS/proxy/keep-alive
// setting — not one per check — so connections are reused across checks
// that talk to the same host.
type Transports struct {
	mu sync.Mutex
	m  map[transportKey]*http.Transport
}

type transportKey struct {
	proxy string
	fresh bool
	tls   config.TLS // zero: system roots, no client certificate
}

// NewTransports returns an empty pool.
func NewTransports() *Transports { return &Transports{m: map[transportKey]*http.Transport{}} }

// For returns the transport for a check's settings, building it once.
func (p *Transports) For(c *config.Check) (*http.Transport, error) {
	k := transportKey{proxy: c.ProxyURL, fresh: c.FreshConnection}
	if c.TLS != nil {
		k.tls = *c.TLS
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.m[k]; ok {
		return t, nil
	}
	t, err := newTransport(k)
	if err != nil {
		return nil, err
	}
	p.m[k] = t
	return t, nil
}

// CloseIdle closes idle connections of every transport.
func (p *Transports) CloseIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.m {
		t.CloseIdleConnections()
	}
}

func newTransport(k transportKey) (*http.Transport, error) {
	t := &http.Transport{
		Proxy:                  nil, // never from the environment: the proxy is explicit per check
		DialContext:            (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 256 << 10, // a hostile 1 MiB header line fails fast
		DisableKeepAlives:      k.fresh,
	}
	if k.proxy != "" {
		u, err := url.Parse(k.proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy_url: %v", err)
		}
		t.Proxy = http.ProxyURL(u)
	}
	if k.tls != (config.TLS{}) {
		tc, err := ClientTLS(&k.tls)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = tc
	}
	return t, nil
}

// ClientTLS builds a client TLS configuration: a private CA, a client
// certificate for mTLS, a server name override.
func ClientTLS(c *config.TLS) (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

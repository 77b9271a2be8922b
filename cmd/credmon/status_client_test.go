package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/credmon/credmon/cmd/credmon/web"
)

type instanceSource string

func (s instanceSource) Snapshot(context.Context) (*web.Snapshot, error) {
	return &web.Snapshot{Instance: string(s), Generated: time.Now(), Ready: true}, nil
}

// serveDaemon serves h as the daemon does, with webConfig, on a loopback
// listener and returns its address.
func serveDaemon(t *testing.T, h http.Handler, webConfig string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(h, ln.Addr(), web.ServerOptions{})
	done := make(chan error, 1)
	go func() { done <- web.Serve(ln, srv, webConfig, nil) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeSelfSigned writes server.crt and server.key for 127.0.0.1 into dir.
func writeSelfSigned(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "credmon status test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "server.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, filepath.Join(dir, "server.key"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
}

func statusInstance(t *testing.T, cfgPath string) string {
	t.Helper()
	r := runCLI(t, "", "status", "-config", cfgPath, "-format", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var snap web.Snapshot
	if err := json.Unmarshal([]byte(r.stdout), &snap); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	return snap.Instance
}

// With TLS in the web config, status asks the daemon over HTTPS, trusting
// the daemon's own (here self-signed) certificate.
func TestStatusAsksDaemonOverTLS(t *testing.T) {
	dir := t.TempDir()
	writeSelfSigned(t, dir)
	writeFile(t, filepath.Join(dir, "web.yml"), "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
	addr := serveDaemon(t, web.NewHandler(instanceSource("tls-daemon"), nil, nil), filepath.Join(dir, "web.yml"))
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, fmt.Sprintf("server: {listen: %q, web_config_file: web.yml}\nstore: {driver: bolt, path: %q}\n", addr, filepath.Join(dir, "credmon.db")))

	if got := statusInstance(t, cfg); got != "tls-daemon" {
		t.Errorf("status came from %q, want the daemon over TLS", got)
	}
}

// Behind basic auth and without -http.config.file status has no password
// to send (the file holds only hashes): it does not ask the daemon, reads
// the store and says so.
func TestStatusReadsStoreBehindBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("FAKE-test-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yml"), "basic_auth_users:\n  prometheus: "+string(hash)+"\n")
	var asked atomic.Int32
	h := web.NewHandler(instanceSource("auth-daemon"), nil, nil)
	addr := serveDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		h.ServeHTTP(w, r)
	}), filepath.Join(dir, "web.yml"))
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, fmt.Sprintf("server: {listen: %q, web_config_file: web.yml}\nstore: {driver: bolt, path: %q}\n", addr, filepath.Join(dir, "credmon.db")))

	if got := statusInstance(t, cfg); got != "(store)" {
		t.Errorf("status came from %q, want the store", got)
	}
	if r := runCLI(t, "", "status", "-config", cfg); r.code != exitOK || !strings.Contains(r.stderr, "read from the store") || !strings.Contains(r.stderr, "pass -http.config.file FILE") {
		t.Errorf("status (exit %d) does not say it read the store and which flag reaches the daemon:\n%s", r.code, r.stderr)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("status sent %d requests to a daemon it has no password for", n)
	}
}

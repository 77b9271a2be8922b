package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

const (
	fakeUser     = "prometheus"
	fakePassword = "FAKE-test-password"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns the certificate, for the client to trust.
func selfSigned(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "credmon test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "server.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, filepath.Join(dir, "server.key"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TLS and basic auth from an exporter-toolkit web config, on every
// endpoint, seen by a real TLS client that trusts only the test's
// certificate.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	cert := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(fakePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	// Relative paths: the toolkit resolves them against the file's directory.
	write(t, webConfig, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  "+fakeUser+": "+string(hash)+"\n")

	reg := prometheus.NewRegistry()
	NewMetrics(reg).ObserveResult(*fixtureSnapshot().Checks[0].Last)
	addr := listen(t, NewHandler(fakeSource{snap: fixtureSnapshot()}, reg, nil), ServerOptions{}, webConfig)

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := &http.Client{Timeout: generous, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	get := func(scheme, path, user, pass string) (int, http.Header, string, error) {
		req, err := http.NewRequest(http.MethodGet, scheme+"://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body), nil
	}

	for _, path := range []string{"/metrics", "/api/v1/status", "/healthz", "/"} {
		for _, c := range []struct{ name, user, pass string }{
			{"no credentials", "", ""},
			{"wrong password", fakeUser, "FAKE-wrong-password"},
			{"unknown user", "FAKE-nobody", fakePassword},
		} {
			code, h, body, err := get("https", path, c.user, c.pass)
			if err != nil {
				t.Fatalf("%s %s: %v", path, c.name, err)
			}
			if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") || strings.Contains(body, "prod") {
				t.Errorf("%s, %s: %d %q, want 401 asking for Basic and no content", path, c.name, code, body)
			}
		}
	}
	for path, want := range map[string]string{"/metrics": "credmon_", "/api/v1/status": `"checks"`} {
		code, _, body, err := get("https", path, fakeUser, fakePassword)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s with the right password: %d, body without %q:\n%.300s", path, code, want, body)
		}
	}

	// Plain HTTP on the TLS port gets nothing it asked for.
	if code, _, body, err := get("http", "/metrics", fakeUser, fakePassword); err == nil && (code == http.StatusOK || strings.Contains(body, "credmon_")) {
		t.Errorf("plain http: %d %.200q", code, body)
	}
	// Nor does a client that does not trust the certificate.
	untrusting := &http.Client{Timeout: generous}
	if resp, err := untrusting.Get("https://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a client without the test certificate connected: %s", resp.Status)
	}
}

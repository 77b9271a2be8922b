package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// errDaemonNeedsPassword: the daemon's web config asks for basic auth and
// holds only bcrypt hashes, so status has nothing to send; it reads the
// store instead.
var errDaemonNeedsPassword = errors.New("the daemon asks for a password (basic_auth_users in server.web_config_file)")

// daemonWebConfig is what status needs from an exporter-toolkit web
// config; the daemon has already validated the whole file at load.
type daemonWebConfig struct {
	TLS struct {
		Cert     string `yaml:"cert"`
		CertFile string `yaml:"cert_file"`
	} `yaml:"tls_server_config"`
	Users map[string]any `yaml:"basic_auth_users"`
}

// daemonClient says how to reach the daemon under its web config: plain
// HTTP without one; with TLS, HTTPS trusting the system roots and the
// server's own certificate (so a self-signed one works too).
func daemonClient(webConfigFile string) (*http.Client, string, error) {
	client := &http.Client{
		Timeout: 2 * time.Second,
		// The status API never redirects; a redirect is not the daemon.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if webConfigFile == "" {
		return client, "http", nil
	}
	data, err := os.ReadFile(webConfigFile)
	if err != nil {
		return nil, "", err
	}
	var wc daemonWebConfig
	if err := yaml.Unmarshal(data, &wc); err != nil {
		return nil, "", fmt.Errorf("server.web_config_file: %w", err)
	}
	if len(wc.Users) > 0 {
		return nil, "", errDaemonNeedsPassword
	}
	pemCert := []byte(wc.TLS.Cert)
	if wc.TLS.CertFile != "" {
		path := wc.TLS.CertFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(webConfigFile), path)
		}
		if pemCert, err = os.ReadFile(path); err != nil {
			return nil, "", err
		}
	}
	if len(pemCert) == 0 {
		return client, "http", nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM(pemCert)
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	return client, "https", nil
}

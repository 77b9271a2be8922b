package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"

	"github.com/credmon/credmon/checks/redact"
)

// httpConfigFlagName is the flag of the commands that reach the daemon,
// named as amtool's.
const httpConfigFlagName = "http.config.file"

// httpConfigFlag adds -http.config.file to a command that asks the daemon.
func httpConfigFlag(fs *flag.FlagSet) *string {
	return fs.String(httpConfigFlagName, "", "Prometheus HTTP client config for reaching the daemon: basic_auth {username, password_file}, tls_config (as amtool's --http.config.file)")
}

// errDaemonNeedsPassword: the daemon's web config asks for basic auth and
// no -http.config.file gives a password. The daemon is not asked; the
// store may be read instead.
var errDaemonNeedsPassword = errors.New("the daemon asks for a password (basic_auth_users in server.web_config_file): " + httpConfigHint)

// httpConfigHint says how to give the CLI a password for the daemon.
const httpConfigHint = "pass -" + httpConfigFlagName + " FILE, a Prometheus HTTP client config with basic_auth: {username: USER, password_file: PATH}"

// errDaemonRefused: the daemon refused the credentials sent. It is
// believed: the store is not tried behind its back.
var errDaemonRefused = errors.New("the daemon refused access")

// daemonWebConfig is what the CLI needs from an exporter-toolkit web
// config; the daemon has already validated the whole file at load.
type daemonWebConfig struct {
	TLS struct {
		Cert     string `yaml:"cert"`
		CertFile string `yaml:"cert_file"`
	} `yaml:"tls_server_config"`
	Users map[string]any `yaml:"basic_auth_users"`
}

// refuseRedirects: the daemon's API never redirects, so a redirect is not
// the daemon; following it would hand the credentials to whoever it names.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// daemonClient says how to reach the daemon under its web config: plain
// HTTP without one; with TLS, HTTPS trusting the system roots and the
// server's own certificate (so a self-signed one works too). With an
// httpConfigFile (-http.config.file) the client is built from that
// Prometheus HTTP client config; the server's certificate is trusted
// unless it names a CA of its own, and sensitive holds the credentials it
// sends.
func daemonClient(webConfigFile, httpConfigFile string) (client *http.Client, scheme string, sensitive *redact.Set, err error) {
	var wc daemonWebConfig
	var pemCert []byte
	if webConfigFile != "" {
		data, err := os.ReadFile(webConfigFile)
		if err != nil {
			return nil, "", nil, err
		}
		if err := yaml.Unmarshal(data, &wc); err != nil {
			return nil, "", nil, fmt.Errorf("server.web_config_file: %w", err)
		}
		pemCert = []byte(wc.TLS.Cert)
		if wc.TLS.CertFile != "" {
			path := wc.TLS.CertFile
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(webConfigFile), path)
			}
			if pemCert, err = os.ReadFile(path); err != nil {
				return nil, "", nil, err
			}
		}
	}
	scheme = "http"
	if len(pemCert) > 0 {
		scheme = "https"
	}
	if httpConfigFile != "" {
		client, sensitive, err := clientFromHTTPConfig(httpConfigFile, pemCert, len(wc.Users) > 0)
		return client, scheme, sensitive, err
	}
	if len(wc.Users) > 0 {
		return nil, "", nil, errDaemonNeedsPassword
	}
	client = &http.Client{Timeout: 2 * time.Second, CheckRedirect: refuseRedirects}
	if scheme == "http" {
		return client, scheme, nil, nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM(pemCert)
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	return client, scheme, nil, nil
}

// errHTTPConfig marks a -http.config.file that cannot be used: the user's
// mistake, reported as it is, never a reason to bypass the daemon.
var errHTTPConfig = errors.New("-" + httpConfigFlagName)

// clientFromHTTPConfig builds the client of a -http.config.file and the
// sensitive set of the credentials it sends (basic auth, as given and as
// user:password, and an Authorization header's credentials), so that
// whatever the server answers is printed without them. serverCert is the
// daemon's certificate (nil without TLS); needsPassword says the daemon
// asks for basic auth.
func clientFromHTTPConfig(path string, serverCert []byte, needsPassword bool) (*http.Client, *redact.Set, error) {
	cfg, _, err := promconfig.LoadHTTPConfigFile(path)
	if err != nil {
		msg := strings.ReplaceAll(yamlValues.ReplaceAllString(err.Error(), "`…`"), "\n ", "")
		return nil, nil, fmt.Errorf("%w %s: %s", errHTTPConfig, path, msg)
	}
	if needsPassword && cfg.BasicAuth == nil {
		return nil, nil, fmt.Errorf("%w %s has no basic_auth, and the daemon asks for a password (basic_auth_users in server.web_config_file)", errHTTPConfig, path)
	}
	// Files are read again for each request by the client; one that
	// cannot be read is this file's mistake, said before anything is sent.
	read := func(what, value, file string) (string, error) {
		if file == "" {
			return value, nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%w %s: %s: %v", errHTTPConfig, path, what, err)
		}
		return strings.TrimSpace(string(b)), nil // as the client reads it
	}
	var secrets []string
	if ba := cfg.BasicAuth; ba != nil {
		user, err := read("basic_auth", ba.Username, ba.UsernameFile)
		if err != nil {
			return nil, nil, err
		}
		pw, err := read("basic_auth", string(ba.Password), ba.PasswordFile)
		if err != nil {
			return nil, nil, err
		}
		secrets = append(secrets, pw, user+":"+pw)
	}
	if a := cfg.Authorization; a != nil {
		cred, err := read("authorization", string(a.Credentials), a.CredentialsFile)
		if err != nil {
			return nil, nil, err
		}
		secrets = append(secrets, cred)
	}
	// Whatever the file says: see refuseRedirects.
	cfg.FollowRedirects = false
	tc := &cfg.TLSConfig
	if len(serverCert) > 0 && tc.CA == "" && tc.CAFile == "" && tc.CARef == "" {
		// A pool of the server's certificate alone: Go accepts a
		// certificate found in the roots as it is, so this trusts the
		// daemon's certificate whoever signed it, as without the flag.
		tc.CA = string(serverCert)
	}
	client, err := promconfig.NewClientFromConfig(*cfg, "credmon")
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: %v", errHTTPConfig, path, err)
	}
	client.CheckRedirect = refuseRedirects
	client.Timeout = 2 * time.Second
	return client, redact.NewSet(secrets...), nil
}

// yamlValues are the values YAML errors quote (“cannot unmarshal !!str
// `FAKEpas...` into …”): a misplaced password would show its first
// characters.
var yamlValues = regexp.MustCompile("`[^`]*`")

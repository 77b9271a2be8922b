package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A relative web_config_file is found beside the config that names it, and
// a file the server would refuse is refused at load, at its position.
func TestWebConfigFile(t *testing.T) {
	dir := t.TempDir()
	// bcrypt of "FAKE-test-password", cost 4.
	const hash = "$2a$04$SV6vSLS0A8.jRpwI8wlCOuu2alNufBJ4FFitga.8nOD5bhiz6Tdw2"
	if err := os.WriteFile(filepath.Join(dir, "web.yml"), []byte("basic_auth_users:\n  prometheus: "+hash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "credmon.yaml")
	if err := os.WriteFile(cfgPath, []byte("server:\n  web_config_file: web.yml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := fakeEnv(nil).Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "web.yml"); cfg.Server.WebConfigFile != want {
		t.Errorf("web_config_file = %q, want %q", cfg.Server.WebConfigFile, want)
	}

	for name, body := range map[string]string{
		"missing file":    "",
		"unknown field":   "basic_auth_user:\n  prometheus: " + hash + "\n",
		"missing tls key": "tls_server_config:\n  cert_file: server.crt\n",
	} {
		t.Run(name, func(t *testing.T) {
			web := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yml")
			if body != "" {
				if err := os.WriteFile(web, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := "\n\nserver:\n  listen: 127.0.0.1:9464\n  web_config_file: " + filepath.Base(web) + "\n"
			path := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := fakeEnv(nil).Load(path)
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want an *Error wrapping ErrInvalid", err)
			}
			if ce.Path != "server.web_config_file" || ce.Pos.Line != 5 || ce.Pos.Col != 20 {
				t.Errorf("reported at %s %s, want line 5 col 20 of server.web_config_file", ce.Pos, ce.Path)
			}
		})
	}
}

package config

import (
	"errors"
	"strings"
	"testing"
)

// server.enable_reload_endpoint is off by default, decodes strictly, and
// warns at its position when the endpoint would be open to the network
// without authentication.
func TestEnableReloadEndpoint(t *testing.T) {
	cfg, err := fakeEnv(nil).Parse("c.yaml", []byte("server:\n  listen: 127.0.0.1:9464\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.EnableReloadEndpoint {
		t.Error("enable_reload_endpoint defaults to true; want false")
	}

	for _, tc := range []struct {
		listen string
		warn   bool
	}{
		{"127.0.0.1:9464", false},
		{"localhost:9464", false},
		{"[::1]:9464", false},
		{"0.0.0.0:9464", true},
		{":9464", true},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			src := "server:\n  listen: \"" + tc.listen + "\"\n  enable_reload_endpoint: true\n"
			cfg, err := fakeEnv(nil).Parse("c.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.Server.EnableReloadEndpoint {
				t.Fatal("enable_reload_endpoint: true did not decode")
			}
			var got *Error
			for _, w := range cfg.Warnings {
				if w.Path == "server.enable_reload_endpoint" {
					got = w
				}
			}
			if (got != nil) != tc.warn {
				t.Fatalf("warning = %v, want one: %v", got, tc.warn)
			}
			if got == nil {
				return
			}
			if !errors.Is(got, ErrInsecure) || got.Pos.Line != 3 || got.Pos.Col != 27 {
				t.Errorf("warning %q: want ErrInsecure at c.yaml:3:27", got)
			}
		})
	}

	// Authentication in front of it silences the warning.
	t.Run("behind web_config_file", func(t *testing.T) {
		cfg := &Config{Server: Server{Listen: "0.0.0.0:9464", EnableReloadEndpoint: true, WebConfigFile: "web.yml"}, positions: map[string]Pos{}}
		v := &validator{c: cfg}
		v.reloadEndpoint()
		if len(cfg.Warnings) != 0 {
			t.Errorf("warnings %v with a web config", cfg.Warnings)
		}
	})

	_, err = fakeEnv(nil).Parse("c.yaml", []byte("server:\n  enable_reload_endpoint: yes please\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:2:27: server.enable_reload_endpoint: invalid boolean") {
		t.Errorf("err = %v, want a positioned invalid boolean", err)
	}
}

func TestCheckPos(t *testing.T) {
	cfg, err := fakeEnv(nil).Parse("c.yaml", []byte("environments:\n  prod:\n    checks:\n      - {name: a, url: \"https://a.example\"}\n      - name: b\n        url: https://b.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.CheckPos("prod", "b"); p.File != "c.yaml" || p.Line != 5 {
		t.Errorf("CheckPos(prod, b) = %+v, want c.yaml line 5", p)
	}
	if p := cfg.CheckPos("prod", "a"); p.Line != 4 {
		t.Errorf("CheckPos(prod, a) = %+v, want line 4", p)
	}
	if p := cfg.CheckPos("prod", "nope"); p != (Pos{}) {
		t.Errorf("CheckPos of an unknown check = %+v", p)
	}
	if p := cfg.CheckPos("staging", "a"); p != (Pos{}) {
		t.Errorf("CheckPos in an unknown environment = %+v", p)
	}
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/credmon/credmon/checks/config"
)

// docker-compose.yml cannot run here; this test checks that everything it
// references exists and that the configuration it mounts is valid.
func TestDockerCompose(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"redis", "sandbox", "credmon-1", "credmon-2"} {
		svc, ok := compose.Services[name]
		if !ok {
			t.Fatalf("service %s missing", name)
		}
		if len(svc.Healthcheck.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
		if svc.Build == nil {
			continue
		}
		if len(svc.Command) == 0 {
			t.Fatalf("service %s has no command", name)
		}
		if _, ok := commands[svc.Command[0]]; !ok {
			t.Errorf("service %s runs unknown subcommand %q", name, svc.Command[0])
		}
		for _, dep := range []string{"redis", "sandbox"} {
			if strings.HasPrefix(name, "credmon") {
				if _, ok := svc.DependsOn[dep]; !ok {
					t.Errorf("service %s does not wait for %s", name, dep)
				}
			}
		}
	}
	for name, s := range compose.Secrets {
		if _, err := os.Stat(filepath.Join(root, s.File)); err != nil {
			t.Errorf("secret %s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "Dockerfile")); err != nil {
		t.Fatal("Dockerfile missing")
	}
	dockerfile, _ := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if !strings.Contains(string(dockerfile), "./cmd/credmon") {
		t.Error("Dockerfile does not build ./cmd/credmon")
	}
	gomod, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goVersion == nil || !strings.Contains(string(dockerfile), "golang:"+string(goVersion[1])) {
		t.Errorf("Dockerfile's Go image does not match go.mod's go %s", goVersion[1])
	}

	// The configuration the replicas mount must load with the environment
	// compose gives them.
	c1 := compose.Services["credmon-1"]
	var mount string
	for _, v := range c1.Volumes {
		host, target, _ := strings.Cut(v, ":")
		if strings.HasPrefix(target, "/etc/credmon") {
			mount = filepath.Join(root, host)
		}
	}
	if mount == "" || !strings.Contains(strings.Join(c1.Command, " "), "/etc/credmon") {
		t.Fatalf("credmon-1 does not mount its config at the path its command reads")
	}
	env := map[string]string{"CREDMON_ENCRYPTION_KEY": "RkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0U="}
	for k, v := range c1.Environment {
		if !strings.HasPrefix(v, "${") {
			env[k] = v
		}
	}
	cfg, err := config.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}.Load(mount)
	if err != nil {
		t.Fatalf("compose config: %v", err)
	}
	if cfg.Store.Driver != "redis" || len(cfg.CheckList()) == 0 {
		t.Errorf("compose config: driver %q, %d checks", cfg.Store.Driver, len(cfg.CheckList()))
	}
}

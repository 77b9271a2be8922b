package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/credmon/credmon/checks/config"
)

const chartDir = "../../deploy/helm/credmon"

func helmBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("helm not found; .ci/run builds it with go install (pinned) when missing")
		}
		t.Skip("helm not found (.ci/run builds it: go install helm.sh/helm/v3/cmd/helm@VERSION): skipping the chart tests")
	}
	return p
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(helmBin(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), errors.New(strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// manifest is one rendered Kubernetes object, as generic YAML.
type manifest = map[string]any

// get walks a path of map keys and list indexes (ints).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func render(t *testing.T, args ...string) []manifest {
	t.Helper()
	out, err := helm(t, append([]string{"template", "rel", chartDir}, args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	var ms []manifest
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var m manifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template %v: output is not YAML: %v", args, err)
		}
		if m != nil {
			ms = append(ms, m)
		}
	}
	return ms
}

func byKind(ms []manifest, kind string) []manifest {
	var out []manifest
	for _, m := range ms {
		if str(m, "kind") == kind {
			out = append(out, m)
		}
	}
	return out
}

// The chart lints and renders with each values example under ci/, and
// what it renders holds what the values promise.
func TestHelmChart(t *testing.T) {
	helmBin(t)
	examples, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil || len(examples) < 3 {
		t.Fatalf("values examples: %v %v", examples, err)
	}
	rules, err := os.ReadFile("../../deploy/prometheus/credmon-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var wantRules map[string]any
	if err := yaml.Unmarshal(rules, &wantRules); err != nil {
		t.Fatal(err)
	}
	dashboard, err := os.ReadFile("../../deploy/grafana/credmon.json")
	if err != nil {
		t.Fatal(err)
	}

	for _, example := range append([]string{""}, examples...) {
		name := "defaults"
		var args []string
		if example != "" {
			name = filepath.Base(example)
			args = []string{"-f", example}
		}
		t.Run(name, func(t *testing.T) {
			if out, err := helm(t, append([]string{"lint", "--strict", chartDir}, args...)...); err != nil {
				t.Fatalf("helm lint: %v\n%s", err, out)
			}
			values := map[string]any{}
			if example != "" {
				b, err := os.ReadFile(example)
				if err != nil {
					t.Fatal(err)
				}
				if err := yaml.Unmarshal(b, &values); err != nil {
					t.Fatal(err)
				}
			}
			replicas := 1
			if n, ok := values["replicaCount"].(int); ok {
				replicas = n
			}
			driver := "bolt"
			if d := str(values, "store", "driver"); d != "" {
				driver = d
			}
			ms := render(t, args...)

			deps := byKind(ms, "Deployment")
			if len(deps) != 1 {
				t.Fatalf("%d Deployments", len(deps))
			}
			dep := deps[0]
			if got := get(dep, "spec", "replicas"); got != replicas {
				t.Errorf("replicas = %v, want %d", got, replicas)
			}
			strategy := str(dep, "spec", "strategy", "type")
			if (driver == "bolt") != (strategy == "Recreate") {
				t.Errorf("driver %s with strategy %q: bolt needs Recreate (one process holds the file), redis rolls", driver, strategy)
			}
			pod := get(dep, "spec", "template", "spec")
			if get(pod, "securityContext", "runAsNonRoot") != true {
				t.Error("the pod may run as root")
			}
			c := get(pod, "containers", 0)
			sc := get(c, "securityContext")
			if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false || !slices.Contains(get(sc, "capabilities", "drop").([]any), any("ALL")) {
				t.Errorf("container securityContext %v: want a read-only root, no privilege escalation, every capability dropped", sc)
			}
			var args []string
			for _, a := range get(c, "args").([]any) {
				args = append(args, a.(string))
			}
			if len(args) == 0 || args[0] != "run" || !slices.Contains(args, "-config=/etc/credmon") {
				t.Errorf("args %v: want run -config=/etc/credmon", args)
			}
			// The flags are credmon's own: the logger builds from them.
			fs := newFlagSet("run", &cliEnv{stderr: io.Discard})
			configFlag(fs, &cliEnv{getenv: func(string) string { return "" }})
			lo := logFlags(fs)
			if err := fs.Parse(args[1:]); err != nil {
				t.Errorf("credmon run does not accept %v: %v", args[1:], err)
			} else if _, err := lo.logger(io.Discard); err != nil {
				t.Errorf("log flags %v: %v", args, err)
			}
			for probe, path := range map[string]string{"livenessProbe": "/-/healthy", "readinessProbe": "/-/ready"} {
				if p := get(c, probe); p == nil {
					t.Errorf("no %s", probe)
				} else if hp := str(p, "httpGet", "path"); hp != "" && hp != path {
					t.Errorf("%s on %s, want %s", probe, hp, path)
				}
			}
			// The config directory is mounted whole (a subPath mount never
			// sees the kubelet's updates).
			var mounted bool
			for _, vm := range get(c, "volumeMounts").([]any) {
				if str(vm, "mountPath") == "/etc/credmon" {
					mounted = get(vm, "subPath") == nil
				}
			}
			if !mounted {
				t.Error("/etc/credmon is not mounted as a directory")
			}

			pdbs := byKind(ms, "PodDisruptionBudget")
			if (len(pdbs) == 1) != (replicas > 1) || len(pdbs) > 1 {
				t.Errorf("%d PodDisruptionBudgets for %d replicas: want one exactly when replicas > 1", len(pdbs), replicas)
			}
			persistence, _ := values["persistence"].(map[string]any)
			wantPVC := driver == "bolt" && (persistence == nil || persistence["enabled"] != false)
			if got := len(byKind(ms, "PersistentVolumeClaim")); (got == 1) != wantPVC {
				t.Errorf("%d PVCs; want one: %v", got, wantPVC)
			}

			// The chart's configuration loads in credmon, with the user's.
			checkRenderedConfig(t, ms, values)

			annotations, _ := get(dep, "spec", "template", "metadata", "annotations").(map[string]any)
			if _, ok := annotations["checksum/config"]; ok != (values["rollOnConfigChange"] != false) {
				t.Errorf("checksum/config annotation present: %v, rollOnConfigChange %v", ok, values["rollOnConfigChange"])
			}

			monitors := byKind(ms, "ServiceMonitor")
			if on := get(values, "serviceMonitor", "enabled") == true; on != (len(monitors) == 1) {
				t.Errorf("serviceMonitor.enabled %v, %d ServiceMonitors", on, len(monitors))
			} else if on {
				ep := get(monitors[0], "spec", "endpoints", 0)
				if str(ep, "port") != "http" || str(ep, "path") != "/metrics" {
					t.Errorf("ServiceMonitor endpoint %v", ep)
				}
			}
			prs := byKind(ms, "PrometheusRule")
			if on := get(values, "prometheusRule", "enabled") == true; on != (len(prs) == 1) {
				t.Errorf("prometheusRule.enabled %v, %d PrometheusRules", on, len(prs))
			} else if on && !reflect.DeepEqual(get(prs[0], "spec", "groups"), wantRules["groups"]) {
				t.Error("the PrometheusRule's groups differ from deploy/prometheus/credmon-rules.yaml")
			}
			var dash manifest
			for _, m := range byKind(ms, "ConfigMap") {
				if _, ok := get(m, "data", "credmon.json").(string); ok {
					dash = m
				}
			}
			if on := get(values, "grafanaDashboard", "enabled") == true; on != (dash != nil) {
				t.Errorf("grafanaDashboard.enabled %v, dashboard ConfigMap %v", on, dash != nil)
			} else if on {
				if str(dash, "metadata", "labels", "grafana_dashboard") != "1" {
					t.Error("the dashboard ConfigMap lacks the sidecar's label grafana_dashboard: \"1\"")
				}
				if strings.TrimSpace(str(dash, "data", "credmon.json")) != strings.TrimSpace(string(dashboard)) {
					t.Error("the dashboard ConfigMap differs from deploy/grafana/credmon.json")
				}
			}
		})
	}
}

// checkRenderedConfig writes the chart's ConfigMap as the kubelet would and
// loads it with credmon's own loader.
func checkRenderedConfig(t *testing.T, ms []manifest, values map[string]any) {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for _, m := range byKind(ms, "ConfigMap") {
		data, _ := get(m, "data").(map[string]any)
		for name, v := range data {
			if !strings.HasSuffix(name, ".yaml") {
				continue
			}
			text := v.(string)
			if strings.Contains(text, "/etc/credmon-web/web.yml") {
				// The web config Secret's mount, stood in for by a file.
				web := filepath.Join(t.TempDir(), "web.yml")
				if err := os.WriteFile(web, []byte("http_server_config:\n  http2: true\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				text = strings.ReplaceAll(text, "/etc/credmon-web/web.yml", web)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
	}
	if values["existingConfigMap"] != nil {
		if slices.Contains(files, "10-config.yaml") {
			t.Error("with existingConfigMap the chart still renders its own 10-config.yaml")
		}
		// What a user's ConfigMap holds, projected beside the chart's file.
		user := "environments:\n  prod:\n    credentials:\n      k: {type: api_key, secret: {env: PROD_KEY}}\n    checks:\n      - {name: a, credential: k, url: https://api.example.com/v1/me}\n"
		if err := os.WriteFile(filepath.Join(dir, "prod.yaml"), []byte(user), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	cfg, err := config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }}.Load(dir)
	if err != nil {
		t.Fatalf("the rendered configuration (%v) does not load:\n%v", files, err)
	}
	if cfg.Server.Listen != "0.0.0.0:9464" || cfg.Store.Path != "/var/lib/credmon/credmon.db" {
		t.Errorf("listen %q, store path %q", cfg.Server.Listen, cfg.Store.Path)
	}
	if want := str(values, "store", "driver"); want != "" && cfg.Store.Driver != want {
		t.Errorf("store.driver %q, want %q", cfg.Store.Driver, want)
	}
	// The root filesystem is read-only: every file credmon writes is on
	// the state volume.
	if cfg.Store.Driver == "redis" && cfg.Store.FallbackPath != "/var/lib/credmon/fallback.db" {
		t.Errorf("store.fallback_path %q is not on the state volume", cfg.Store.FallbackPath)
	}
	if want := get(values, "server", "enableReloadEndpoint") == true; cfg.Server.EnableReloadEndpoint != want {
		t.Errorf("enable_reload_endpoint %v, want %v", cfg.Server.EnableReloadEndpoint, want)
	}
	if get(values, "store", "encryptionKeyEnv") != nil && !cfg.Store.EncryptionKey.IsSet() {
		t.Error("store.encryptionKeyEnv set, encryption_key not configured")
	}
}

// A change of the chart's configuration changes the pods' checksum, so
// they roll; the same values render the same checksum.
func TestHelmChecksumFollowsConfig(t *testing.T) {
	sum := func(args ...string) string {
		dep := byKind(render(t, args...), "Deployment")[0]
		return str(dep, "spec", "template", "metadata", "annotations", "checksum/config")
	}
	a, b := sum(), sum()
	c := sum("--set", "config.scheduler.schedule=@every 2m")
	if a == "" || a != b || a == c {
		t.Errorf("checksums %q %q %q: want equal for equal values, different for a changed config", a, b, c)
	}
}

// Values that cannot work are refused with the fix.
func TestHelmChartRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "replicaCount=2"}, "replicaCount > 1 needs store.driver: redis"},
		{[]string{"--set", "config.server.listen=0.0.0.0:1"}, "config.server and config.store are set by the chart"},
		{[]string{"--set", "store.driver=memory"}, "/store/driver"},
		{[]string{"--set", "log.format=yaml"}, "/log/format"},
		{[]string{"--set", "nope=1"}, "nope"},
	} {
		_, err := helm(t, append([]string{"template", "rel", chartDir}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

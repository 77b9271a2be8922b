package checks_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/credmon/credmon"

// A dependency rule: no package matched by from may reach (directly or
// through other packages) a package with prefix to.
type depRule struct {
	what string
	from func(pkg string) bool
	to   string
}

// Test-support packages (store/storetest opens a real Redis for the
// contract suites) are not part of the product and may use any driver.
var testSupport = map[string]bool{
	module + "/store/storetest":                    true,
	module + "/checks/secretstore/awssm/awssmtest": true,
}

// awsExcept matches every package of the module but the aws_secretsmanager
// store and its test support: the AWS SDK stays there.
func awsExcept(pkg string) bool {
	return strings.HasPrefix(pkg, module+"/") && !testSupport[pkg] && pkg != module+"/checks/secretstore/awssm"
}

func under(dir string) func(string) bool {
	return func(pkg string) bool { return pkg == module+"/"+dir || strings.HasPrefix(pkg, module+"/"+dir+"/") }
}

func storeExcept(driver string) func(string) bool {
	return func(pkg string) bool {
		return under("store")(pkg) && !testSupport[pkg] && pkg != module+"/store/"+driver
	}
}

var depRules = []depRule{
	{"checks/... into store/...", under("checks"), module + "/store"},
	{"checks/... into cmd/...", under("checks"), module + "/cmd"},
	{"store/... (but redisstore) into go-redis", storeExcept("redisstore"), "github.com/redis/go-redis"},
	{"store/... (but boltstore) into bbolt", storeExcept("boltstore"), "go.etcd.io/bbolt"},
}

// violations returns, for each rule, every package that breaks it and the
// import chain by which it does: "a -> b -> c".
func violations(imports map[string][]string, rules []depRule) []string {
	var out []string
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, r := range rules {
		for _, p := range pkgs {
			if !r.from(p) {
				continue
			}
			if chain := reach(imports, p, r.to); chain != nil {
				out = append(out, r.what+": "+strings.Join(chain, " -> "))
			}
		}
	}
	return out
}

// reach finds an import chain from pkg to a package with prefix to
// (breadth first, so the chain is a shortest one), or nil.
func reach(imports map[string][]string, pkg, to string) []string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != pkg && (p == to || strings.HasPrefix(p, to+"/")) {
			var chain []string
			for q := p; q != ""; q = prev[q] {
				chain = append([]string{strings.TrimPrefix(q, module+"/")}, chain...)
			}
			return chain
		}
		for _, next := range imports[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// moduleImports is the import graph of every package the module's
// packages depend on, from `go list -deps` (test files excluded: a test may
// wire a domain package to a real store).
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
	if err != nil {
		t.Fatalf("no go command to list packages with: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	imports := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			imports[f[0]] = f[1:]
		}
	}
	return imports
}

func TestDependencyDirection(t *testing.T) {
	imports := moduleImports(t)
	// The graph is the real one: the drivers do reach their libraries, so
	// a rule that finds nothing is not looking at nothing.
	for pkg, lib := range map[string]string{
		"store/redisstore": "github.com/redis/go-redis",
		"store/boltstore":  "go.etcd.io/bbolt",
		"checks/rotation":  module + "/checks",
	} {
		if reach(imports, module+"/"+pkg, lib) == nil {
			t.Fatalf("go list -deps shows no path from %s to %s: the graph is not the module's", pkg, lib)
		}
	}
	for _, v := range violations(imports, depRules) {
		t.Error(v)
	}
}

// The rules can fail: a graph with the old wrong-way imports breaks each.
func TestDependencyRulesCatchViolations(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	bad := map[string][]string{
		m("checks/rotation"):  {m("store")},
		m("store"):            {m("checks")},
		m("checks/clock"):     {m("cmd/credmon/daemon")},
		m("store/fallback"):   {m("store"), "github.com/redis/go-redis/v9"},
		m("store/memstore"):   {m("store/boltstore")},
		m("store/boltstore"):  {"go.etcd.io/bbolt"},
		m("store/redisstore"): {"github.com/redis/go-redis/v9"},
		m("store/storetest"):  {"github.com/redis/go-redis/v9"},
	}
	got := violations(bad, depRules)
	want := []string{
		"checks/... into store/...: checks/rotation -> store",
		"checks/... into cmd/...: checks/clock -> cmd/credmon/daemon",
		"store/... (but redisstore) into go-redis: store/fallback -> github.com/redis/go-redis/v9",
		"store/... (but boltstore) into bbolt: store/memstore -> store/boltstore -> go.etcd.io/bbolt",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("violations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The AWS SDK is imported by the aws_secretsmanager store only (others
// reach it through that package's registration, which is not a use).
func TestAWSSDKStaysInItsStore(t *testing.T) {
	imports := moduleImports(t)
	sdk := false
	for pkg, deps := range imports {
		for _, d := range deps {
			if !strings.HasPrefix(d, "github.com/aws/") {
				continue
			}
			if awsExcept(pkg) {
				t.Errorf("%s imports %s; only checks/secretstore/awssm may", pkg, d)
			}
			sdk = sdk || pkg == module+"/checks/secretstore/awssm"
		}
	}
	if !sdk {
		t.Fatal("checks/secretstore/awssm imports no AWS SDK package: the graph is not the module's")
	}
}

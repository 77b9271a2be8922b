package web

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Revision is the VCS commit the binary was built from, with "-dirty" for
// a modified tree, or "unknown"; `credmon version` prints the same.
func Revision() string {
	commit, modified := "unknown", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		commit += "-dirty"
	}
	return commit
}

// RegisterBuildInfo registers credmon_build_info{version,revision,goversion},
// always 1, the convention of every Prometheus exporter: dashboards show the
// version running and `count by (version)` follows a rollout.
func RegisterBuildInfo(reg prometheus.Registerer, version string) {
	if version == "" {
		version = "unknown"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "credmon_build_info",
		Help:        "A metric with a constant '1' value labelled by the version, revision and Go version credmon was built from.",
		ConstLabels: prometheus.Labels{"version": version, "revision": Revision(), "goversion": runtime.Version()},
	})
	g.Set(1)
	reg.MustRegister(g)
}

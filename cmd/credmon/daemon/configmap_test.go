package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

// configMapVolume lays files out as the kubelet's atomic writer does for a
// ConfigMap volume: the data in a timestamped hidden directory, a ..data
// symlink to it, and one top-level symlink per key through ..data. An
// update writes a new directory, swaps ..data with a rename (the one
// atomic step) and deletes the old directory; no file is ever written in
// place, so a watcher of the files' inodes or mtimes sees nothing.
type configMapVolume struct {
	t    *testing.T
	dir  string
	gen  int
	prev string
}

func (v *configMapVolume) update(files map[string]string) {
	t := v.t
	v.gen++
	ts := fmt.Sprintf("..2026_12_02_05_30_%02d.%d", v.gen, 1000+v.gen)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(v.dir, ts, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if v.prev != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, v.prev)); err != nil {
			t.Fatal(err)
		}
	}
	v.prev = ts
}

func configText(url string, names ...string) string {
	s := "store: {driver: memory}\nscheduler: {schedule: \"@every 1s\"}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n    checks:\n"
	for _, n := range names {
		s += fmt.Sprintf("      - {name: %s, credential: key, url: %q}\n", n, url+"/"+n)
	}
	return s
}

// A ConfigMap update reloads the daemon, whether -config names the mounted
// directory or the file inside it.
func TestDaemonReloadsOnAConfigMapSwap(t *testing.T) {
	for _, mode := range []string{"directory", "file"} {
		t.Run(mode, func(t *testing.T) {
			srv := api(t, nil, nil)
			vol := &configMapVolume{t: t, dir: t.TempDir()}
			vol.update(map[string]string{"config.yaml": configText(srv.URL, "alpha")})
			path := vol.dir
			if mode == "file" {
				path = filepath.Join(vol.dir, "config.yaml")
			}
			results := make(chan checks.Result, 64)
			start(t, daemon.Options{ConfigPath: path, WatchInterval: 20 * time.Millisecond, OnResult: func(res checks.Result) {
				select {
				case results <- res:
				default:
				}
			}})
			waitFor := func(check string) {
				t.Helper()
				hang := time.After(20 * time.Second)
				for {
					select {
					case res := <-results:
						if res.Check == check {
							return
						}
					case <-hang:
						t.Fatalf("check %s never ran: the swap was not noticed", check)
					}
				}
			}
			waitFor("alpha")
			vol.update(map[string]string{"config.yaml": configText(srv.URL, "alpha", "epsilon")})
			waitFor("epsilon")
			// A second swap: the watcher follows ..data again, not the
			// directory it resolved the first time (now deleted).
			vol.update(map[string]string{"config.yaml": configText(srv.URL, "zeta")})
			waitFor("zeta")
		})
	}
}

package daemon

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/credmon/credmon/checks/config"
)

// fileState fingerprints the config files' contents, so a change by any
// means — an editor, a ConfigMap symlink swap — is noticed.
type fileState [sha256.Size]byte

func statFiles(path string) fileState {
	h := sha256.New()
	files := []string{path}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "*.yaml"))
		sort.Strings(files)
	}
	for _, f := range files {
		h.Write([]byte(f))
		if b, err := os.ReadFile(f); err == nil {
			h.Write(b)
		}
	}
	var s fileState
	copy(s[:], h.Sum(nil))
	return s
}

// watch reloads on SIGHUP and when the config files change.
func (d *Daemon) watch(ctx context.Context) {
	var tick <-chan time.Time
	if d.opts.ConfigPath != "" && d.opts.WatchInterval > 0 {
		t := time.NewTicker(d.opts.WatchInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.opts.Reload:
			d.Reload("SIGHUP")
		case <-tick:
			if s := statFiles(d.opts.ConfigPath); s != d.watched {
				d.watched = s
				d.Reload("config changed")
			}
		}
	}
}

// Reload loads and validates the configuration again. If it is invalid the
// running configuration stays, the error is logged and /readyz says so.
func (d *Daemon) Reload(reason string) error {
	if d.opts.ConfigPath == "" {
		return nil
	}
	cfg, err := config.Load(d.opts.ConfigPath)
	if err == nil {
		d.warnRestartOnly(cfg)
		err = d.apply(cfg)
	}
	d.mu.Lock()
	d.reloadErr = err
	d.mu.Unlock()
	d.metrics.ConfigReloaded(err == nil, time.Now())
	if err != nil {
		d.log.Error("config reload failed; the previous configuration keeps running", "reason", reason, "err", err)
		return err
	}
	d.log.Info("config reloaded", "reason", reason, "checks", len(cfg.CheckList()))
	if d.opts.MemoryLimit {
		applyMemoryLimit(len(cfg.CheckList()), d.log)
	}
	return nil
}

// warnRestartOnly logs settings that a reload cannot change.
func (d *Daemon) warnRestartOnly(cfg *config.Config) {
	d.mu.RLock()
	old := d.gen.cfg
	d.mu.RUnlock()
	if old.Server != cfg.Server || old.Store.Driver != cfg.Store.Driver || old.Store.Path != cfg.Store.Path || old.Store.FallbackPath != cfg.Store.FallbackPath || old.Store.Redis.URL != cfg.Store.Redis.URL {
		d.log.Warn("server and store settings change only on restart")
	}
	if old.Scheduler.MaxConcurrency != cfg.Scheduler.MaxConcurrency || old.Scheduler.Jitter != cfg.Scheduler.Jitter {
		d.log.Warn("scheduler.max_concurrency and scheduler.jitter change only on restart")
	}
}

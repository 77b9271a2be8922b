package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// memoryLimitHelper, set in a child's environment, makes
// TestMemoryLimitHelper the child: it sets the limit as credmon run does
// and prints the log and the limit the runtime then has.
const memoryLimitHelper = "CREDMON_TEST_MEMORY_LIMIT_HELPER"

func TestMemoryLimitHelper(t *testing.T) {
	if os.Getenv(memoryLimitHelper) == "" {
		t.Skip("the child of TestMemoryLimitFromTheContainer")
	}
	var logs bytes.Buffer
	setMemoryLimit(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	fmt.Printf("limit=%d\n%s", debug.SetMemoryLimit(-1), logs.String())
}

// TestMemoryLimitFromTheContainer runs the setting of the soft memory limit
// in a real memory cgroup with a limit of 256 MiB, in a child process (the
// limit is the process's own).
func TestMemoryLimitFromTheContainer(t *testing.T) {
	cgroup := memoryCgroup(t, 256<<20)
	const container = 256 << 20
	cases := []struct {
		name, env string
		want      int64
		log       string
	}{
		{"default", "", 241591910, // 256 MiB × 0.9, rounded down
			`msg="soft memory limit set from the container's memory limit" soft_limit="230.4 MiB" container_limit="256.0 MiB" ratio=0.9`},
		{"AUTOMEMLIMIT ratio", "AUTOMEMLIMIT=0.5", container / 2,
			`msg="soft memory limit set from the container's memory limit" soft_limit="128.0 MiB" container_limit="256.0 MiB" ratio=0.5`},
		{"AUTOMEMLIMIT=off", "AUTOMEMLIMIT=off", math.MaxInt64, `msg="no soft memory limit: AUTOMEMLIMIT=off"`},
		{"GOMEMLIMIT", "GOMEMLIMIT=100MiB", 100 << 20, `msg="soft memory limit set by GOMEMLIMIT" soft_limit="100.0 MiB"`},
		{"AUTOMEMLIMIT not a ratio", "AUTOMEMLIMIT=2", math.MaxInt64, `level=WARN msg="no soft memory limit: `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			limit, logs := runInCgroup(t, cgroup, c.env)
			if limit != c.want {
				t.Errorf("limit = %d, want %d\n%s", limit, c.want, logs)
			}
			if !strings.Contains(logs, c.log) {
				t.Errorf("log does not say %s:\n%s", c.log, logs)
			}
		})
	}
}

// TestNoMemoryLimitOutsideAContainerLimit: in a cgroup without a limit the
// runtime is left without one.
func TestNoMemoryLimitOutsideAContainerLimit(t *testing.T) {
	cgroup := memoryCgroup(t, 0)
	for _, f := range []string{"memory.limit_in_bytes", "memory.max"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(cgroup), f))
		if n, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && perr == nil && n < 1<<62 {
			t.Skipf("this process's own cgroup has a memory limit (%d bytes)", n)
		}
	}
	limit, logs := runInCgroup(t, cgroup, "")
	if limit != math.MaxInt64 {
		t.Errorf("limit = %d, want none\n%s", limit, logs)
	}
	if want := `msg="no soft memory limit: the container has no memory limit"`; !strings.Contains(logs, want) {
		t.Errorf("log does not say %s:\n%s", want, logs)
	}
}

// runInCgroup runs TestMemoryLimitHelper in cgroup with env (NAME=VALUE
// or empty) and returns the limit it reports and its log.
func runInCgroup(t *testing.T, cgroup, env string) (int64, string) {
	t.Helper()
	// The shell moves itself into the cgroup, then becomes the child.
	cmd := exec.Command("sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cgroup,
		os.Args[0], "-test.run=^TestMemoryLimitHelper$", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "AUTOMEMLIMIT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, memoryLimitHelper+"=1")
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "limit="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			return n, string(out)
		}
	}
	t.Fatalf("child printed no limit:\n%s", out)
	return 0, ""
}

// memoryCgroup makes a memory cgroup below this process's own, with a
// limit of limit bytes unless limit is 0, and removes it at cleanup. It
// skips the test where cgroups cannot be made (not root, no memory
// controller, a cgroup v2 parent that does not delegate memory).
func memoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skipf("needs Linux cgroups: %v", err)
	}
	var dir, limitFile string
	for line := range strings.Lines(string(own)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case slices.Contains(strings.Split(parts[1], ","), "memory"): // v1
			dir, limitFile = filepath.Join("/sys/fs/cgroup/memory", parts[2]), "memory.limit_in_bytes"
		case parts[0] == "0" && parts[1] == "" && dir == "": // v2
			if c, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && slices.Contains(strings.Fields(string(c)), "memory") {
				dir, limitFile = filepath.Join("/sys/fs/cgroup", parts[2]), "memory.max"
			}
		}
	}
	if dir == "" {
		t.Skip("needs a memory cgroup controller")
	}
	cg := filepath.Join(dir, fmt.Sprintf("credmon-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-")))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("needs a memory cgroup it can make (root): %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(cg); err != nil {
			t.Errorf("remove cgroup: %v", err)
		}
	})
	if limit > 0 {
		if err := os.WriteFile(filepath.Join(cg, limitFile), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
			t.Skipf("needs a memory cgroup whose limit it can set: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(cg, "cgroup.procs")); err != nil {
		t.Skipf("needs a memory cgroup it can move a process into: %v", err)
	}
	return cg
}

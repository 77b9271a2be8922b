package web

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable browser, or skips the test; with
// CREDMON_BROWSER_TEST=required a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CREDMON_BROWSER_TEST") == "required" {
		t.Fatal("no chromium on PATH and CREDMON_BROWSER_TEST=required")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); set CREDMON_BROWSER_TEST=required to fail instead")
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	// The timeout bounds a hung browser, it asserts nothing about speed.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	base := []string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--user-data-dir=" + filepath.Join(home, "profile"),
		"--force-color-profile=srgb", "--hide-scrollbars",
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

func TestStatusPageInChromium(t *testing.T) {
	bin := chromium(t)
	srv := httptest.NewServer(NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil))
	defer srv.Close()

	t.Run("screenshot", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "page.png")
		size := "--window-size=1400,1000"
		if s := os.Getenv("CREDMON_SCREENSHOT_SIZE"); s != "" {
			size = "--window-size=" + s
		}
		runChromium(t, bin, "--screenshot="+out, size, srv.URL+"/")
		png, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		if len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("screenshot is not a rendered PNG (%d bytes)", len(png))
		}
		if dst := os.Getenv("CREDMON_SCREENSHOT_OUT"); dst != "" {
			if err := os.WriteFile(dst, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot written to %s (%d bytes)", dst, len(png))
		}
	})

	t.Run("dom", func(t *testing.T) {
		dom := string(runChromium(t, bin, "--dump-dom", srv.URL+"/"))
		for _, c := range fixtureSnapshot().Checks {
			if !strings.Contains(dom, c.Name) {
				t.Errorf("rendered DOM lacks check %q", c.Name)
			}
		}
		for _, want := range []string{"invalid_token", "previous_key_still_valid", "This replica is not ready.", "class=\"cell s-fail\""} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
	})

	t.Run("filtered", func(t *testing.T) {
		dom := string(runChromium(t, bin, "--dump-dom", srv.URL+"/?env=staging&status=fail"))
		if !strings.Contains(dom, "wrong_environment") || !strings.Contains(dom, `<option selected="">fail</option>`) {
			t.Error("the filtered page lacks staging's failure or the selected filter")
		}
		if strings.Contains(dom, `<th scope="col">prod</th>`) || strings.Contains(dom, `<th scope="row">mail-send</th>`) {
			t.Error("the filtered page shows the prod column or a prod-only check")
		}
		if !strings.Contains(dom, `<th scope="col">staging</th>`) {
			t.Error("the filtered page lacks the staging column")
		}
	})

	t.Run("10k", func(t *testing.T) {
		big := httptest.NewServer(NewHandler(fakeSource{snap: fleet(10000)}, nil, nil))
		defer big.Close()
		dom := string(runChromium(t, bin, "--dump-dom", big.URL+"/"))
		if n := strings.Count(dom, `<th scope="row">`); n < pageLimit || n > pageLimit+10 {
			t.Errorf("%d row headers at 10,000 checks, want the %d listed (and the summary's)", n, pageLimit)
		}
		for _, want := range []string{"10,000 checks", "ok checks are not listed", "show all"} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
	})
}

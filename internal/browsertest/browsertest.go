// Package browsertest runs a page in headless Chromium for tests that must prove what a
// person's browser would do. Where Chromium is absent the test is skipped with a message
// saying how to get it (CI installs it).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Chromium returns the path of a Chromium binary, skipping t when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed: apt-get install chromium to run the browser tests")
	return ""
}

// DumpDOM loads url in headless Chromium, lets its scripts run for up to budget of virtual
// time, and returns the resulting DOM. Background networking is off: this machine, like a
// user's offline one, has no route outside, and the page must not need one.
func DumpDOM(t testing.TB, url string, budget time.Duration) string {
	t.Helper()
	bin := Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget="+strconv.Itoa(int(budget/time.Millisecond)),
		"--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("chromium: %v\n%s", err, stderr)
	}
	return string(out)
}

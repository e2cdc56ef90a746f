// Package browsertest runs a page in headless Chromium for tests that must prove what a
// person's browser would do. Where Chromium is absent the test is skipped with a message
// saying how to get it (CI installs it).
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Timeout bounds one Chromium run, start-up included.
const Timeout = 60 * time.Second

// DefaultBudget is the virtual time a page gets to run its scripts.
const DefaultBudget = 10 * time.Second

// Chromium returns the path of a Chromium binary, skipping t when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed: apt-get install chromium to run " + t.Name())
	return ""
}

// DumpDOM loads url in headless Chromium, lets its scripts run for DefaultBudget of virtual
// time (or the budget given), and returns the resulting DOM. Virtual time stands still
// while requests are pending, so the page's fetches finish before the dump. Background
// networking is off: this machine, like a user's offline one, has no route outside, and
// the page must not need one.
func DumpDOM(t testing.TB, url string, budget ...time.Duration) string {
	t.Helper()
	bin := Chromium(t)
	b := DefaultBudget
	if len(budget) > 0 {
		b = budget[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		// Root in a container needs --no-sandbox; --disable-dev-shm-usage survives a small /dev/shm.
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget="+strconv.FormatInt(b.Milliseconds(), 10),
		"--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Chromium's helper processes may hold the pipes open after the browser exits.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish %s within %s\nstderr:\n%s", url, Timeout, stderr.Bytes())
	}
	if err != nil && stdout.Len() == 0 {
		t.Fatalf("chromium: %v\nstderr:\n%s", err, stderr.Bytes())
	}
	if err != nil {
		t.Logf("chromium: %v (DOM was dumped)\nstderr:\n%s", err, stderr.Bytes())
	}
	return stdout.String()
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// buildBinary compiles the real binary once per test run.
func buildBinary(t *testing.T) string { return buildWith(t) }

// buildWith compiles the binary with extra go build flags, once per set of flags.
func buildWith(t *testing.T, flags ...string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	key := strings.Join(flags, " ")
	if bin, ok := builds.bins[key]; ok {
		return bin
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "membergraph-test-bin")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins = dir, map[string]string{}
	}
	bin := filepath.Join(builds.dir, fmt.Sprintf("membergraph-%d", len(builds.bins)))
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builds.bins[key] = bin
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestBadConfigFailsWithOneLine(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--database-url", "postgres://db/x"}, "unknown scheme"},
		{[]string{"serve", "--database-url", "mysql://root@tcp(127.0.0.1:1)/x"}, "MEMBERGRAPH_DATABASE_URL"},
		{[]string{"serve", "--auth-secret", "short"}, "at least 32 bytes"},
		{[]string{"serve", "--production", "--auth-secret", ""}, "MEMBERGRAPH_AUTH_SECRET"},
		{[]string{"token", "--role", "MEMBER"}, "MEMBERGRAPH_AUTH_SECRET"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"serve", "--clock-start", "3 Dec 2026"}, "RFC 3339"},
		{[]string{"serve", "--request-timeout", "0s"}, "--request-timeout"},
		// MySQL's lock wait (5 s unless the URL sets it) must end before the request's deadline.
		{[]string{"serve", "--database-url", "mysql://root@tcp(127.0.0.1:1)/x", "--request-timeout", "3s"}, "must exceed the database's lock wait 5s"},
		{[]string{"serve", "--production", "--auth-secret", strings.Repeat("s", 32), "--clock-start", "2026-12-03T10:00:00+08:00"}, "not --production"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "MEMBERGRAPH_AUTH_SECRET=", "MEMBERGRAPH_DATABASE_URL=sqlite://"+filepath.Join(t.TempDir(), "x.db"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		if err == nil || !strings.HasPrefix(last, "membergraph: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: exit %v, last line %q; want an error naming %q", tc.args, err, last, tc.want)
		}
		// A start refused for its configuration leaves nothing behind (no state directory).
		if left, _ := os.ReadDir(cmd.Dir); len(left) > 0 {
			t.Errorf("%v left %s in the working directory", tc.args, left[0].Name())
		}
	}
}

// TestServeFirstStart is the new user's path: an empty SQLite file, no secret; the server
// migrates, seeds the JD-style programme, prints an ADMIN token that reads the five tiers,
// serves the playground, and stops cleanly on SIGTERM.
func TestServeFirstStart(t *testing.T) {
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env = append(os.Environ(), "MEMBERGRAPH_AUTH_SECRET=", "MEMBERGRAPH_DATABASE_URL=sqlite://"+filepath.Join(t.TempDir(), "data", "mg.db"))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	tokenRE := regexp.MustCompile(`Authorization: Bearer (\S+)`)
	tokc := make(chan string, 1)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := tokenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case tokc <- m[1]: // the first is ADMIN's
				default:
				}
			}
		}
	}()
	var token string
	select {
	case token = <-tokc:
	case <-time.After(60 * time.Second):
		t.Fatalf("no admin token printed; stderr:\n%s", logs.String())
	}
	base := "http://" + addr
	var resp *http.Response
	var err error
	for range 100 {
		if resp, err = http.Get(base + "/readyz"); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("not ready: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ program { tiers { key name level minScore } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			Program struct{ Tiers []struct{ MinScore int } }
		}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(body, &out)
	var scores []string
	for _, tr := range out.Data.Program.Tiers {
		scores = append(scores, fmt.Sprint(tr.MinScore))
	}
	if got := strings.Join(scores, "/"); got != "0/1000/2500/4500/7000" {
		t.Errorf("tiers = %s (%s)", got, body)
	}
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !bytes.Contains(html, []byte(token)) {
		t.Errorf("playground: HTTP %d, dev token pre-filled for loopback: %v", page.StatusCode, bytes.Contains(html, []byte(token)))
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) || !strings.Contains(logs.String(), `"request_id"`) {
		t.Errorf("JSON logs lack shutdown or request ids:\n%s", logs.String())
	}
}

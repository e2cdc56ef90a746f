package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
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

	"github.com/membergraph/membergraph/internal/auth"
)

const (
	testSecret = "a-test-secret-that-is-long-enough-0123"
	dbPassword = "db-pa55word-not-for-help"
)

// run runs the binary with env added to a clean MEMBERGRAPH_* environment and returns its
// exit code and combined output.
func runBin(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return 0, string(out)
}

// cleanEnv is the test's environment without any MEMBERGRAPH_ setting of the machine.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEMBERGRAPH_") {
			out = append(out, kv)
		}
	}
	return out
}

// TestHelpExitsZeroAndHidesSecrets: every command's -h exits 0, says what its flags do for
// it, and never shows the configured secret or database password.
func TestHelpExitsZeroAndHidesSecrets(t *testing.T) {
	bin := buildBinary(t)
	env := []string{"MEMBERGRAPH_AUTH_SECRET=" + testSecret,
		"MEMBERGRAPH_DATABASE_URL=mysql://app:" + dbPassword + "@tcp(127.0.0.1:3306)/mg"}
	for _, tc := range []struct {
		args        []string
		want, avoid []string
	}{
		{[]string{"serve", "-h"}, []string{"-auth-secret", "(default (set))", "mysql://app:xxxxx@tcp(127.0.0.1:3306)/mg",
			"working directory", "-state-dir", "-metrics-addr", "default programme, for tokens that name none"}, nil},
		{[]string{"token", "-h"}, []string{"(default (set))", "development secret", "any case"}, nil},
		{[]string{"migrate", "-h"}, []string{"mysql://app:xxxxx@", "-status"}, []string{"-program"}},
		{[]string{"expire", "-h"}, []string{"-database-url"}, []string{"-program"}},
		{[]string{"campaigns", "run", "-h"}, []string{"-database-url", "mysql://app:xxxxx@", "-chunk", "exactly once"}, []string{"-program"}},
		{[]string{"settle", "-h"}, []string{"programme whose scores to settle"}, nil},
		{[]string{"plugins", "-h"}, []string{"plugins trust", "plugins verify", "-plugin-dir"}, []string{"-database-url"}},
		{[]string{"plugins", "list", "-h"}, []string{"-plugin-dir"}, nil},
		{[]string{"bench", "-h"}, []string{"seed-scores", "-members", "programme to load into"}, nil},
		{[]string{"help"}, []string{"membergraph version"}, nil},
	} {
		code, out := runBin(t, bin, env, tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d, want 0\n%s", tc.args, code, out)
		}
		if strings.Contains(out, testSecret) || strings.Contains(out, dbPassword) {
			t.Errorf("%v prints a secret:\n%s", tc.args, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, a := range tc.avoid {
			if strings.Contains(out, a) {
				t.Errorf("%v: help has %q:\n%s", tc.args, a, out)
			}
		}
	}
	// The -migrate flag's text is its own: a back-quoted word in a flag's text would be shown
	// as the flag's argument ("-migrate membergraph migrate").
	_, out := runBin(t, bin, env, "serve", "-h")
	if !regexp.MustCompile(`(?m)^  -migrate\n\s+apply pending database migrations before serving`).MatchString(out) {
		t.Errorf("serve -h, -migrate:\n%s", out)
	}
	// A URL that does not parse is not shown either.
	_, out = runBin(t, bin, []string{"MEMBERGRAPH_DATABASE_URL=postgres://u:" + dbPassword + "@db/x"}, "migrate", "-h")
	if strings.Contains(out, dbPassword) {
		t.Errorf("migrate -h prints an unparsable URL's password:\n%s", out)
	}
	code, out := runBin(t, bin, []string{"MEMBERGRAPH_DATABASE_URL=postgres://u:" + dbPassword + "@db/x"}, "migrate")
	if code == 0 || strings.Contains(out, dbPassword) {
		t.Errorf("migrate on an unknown scheme: exit %d\n%s", code, out)
	}
}

func TestVersion(t *testing.T) {
	stamped := buildWith(t, "-ldflags", "-X main.version=v1.2.3-test")
	if code, out := runBin(t, stamped, nil, "version"); code != 0 || strings.TrimSpace(out) != "membergraph v1.2.3-test" {
		t.Errorf("version: exit %d %q", code, out)
	}
	// Without -X the version is the VCS revision go build stamps (-buildvcs=true: this
	// machine's GOFLAGS turn stamping off).
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git here: %v", err)
	}
	code, out := runBin(t, buildWith(t, "-buildvcs=true"), nil, "version")
	if got := strings.TrimPrefix(strings.TrimSpace(out), "membergraph "); code != 0 || !strings.HasPrefix(string(rev), strings.TrimSuffix(got, "-dirty")) || len(got) < 12 {
		t.Errorf("version without -X: exit %d %q; HEAD is %s", code, out, rev)
	}
}

func TestTokenRoleIgnoresCase(t *testing.T) {
	bin := buildBinary(t)
	code, out := runBin(t, bin, []string{"MEMBERGRAPH_AUTH_SECRET=" + testSecret}, "token", "--role", "member", "--member", "alice")
	if code != 0 {
		t.Fatalf("token --role member: exit %d\n%s", code, out)
	}
	signer, _ := auth.NewSigner([]byte(testSecret), nil)
	c, err := signer.Verify(strings.TrimSpace(out))
	if err != nil || c.Role != auth.RoleMember || c.Subject != "alice" {
		t.Errorf("token = %+v, %v", c, err)
	}
}

// TestTokenTTLIsBounded: token --ttl refuses a lifetime over --token-max-ttl (default 30
// days) and issues within it.
func TestTokenTTLIsBounded(t *testing.T) {
	bin := buildBinary(t)
	env := []string{"MEMBERGRAPH_AUTH_SECRET=" + testSecret}
	if code, out := runBin(t, bin, env, "token", "--role", "ADMIN", "--ttl", "721h"); code == 0 || !strings.Contains(out, "at most 720h") {
		t.Errorf("token --ttl 721h: exit %d\n%s", code, out)
	}
	if code, out := runBin(t, bin, env, "token", "--role", "ADMIN", "--ttl", "3h", "--token-max-ttl", "2h"); code == 0 {
		t.Errorf("token --ttl 3h --token-max-ttl 2h: exit 0\n%s", out)
	}
	if code, out := runBin(t, bin, env, "token", "--role", "ADMIN", "--ttl", "720h"); code != 0 {
		t.Errorf("token --ttl 720h: exit %d\n%s", code, out)
	}
}

func TestMigrateStatusNamesEachMigration(t *testing.T) {
	bin := buildBinary(t)
	env := []string{"MEMBERGRAPH_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "mg.db")}
	files, _ := filepath.Glob("../../ent/migrate/migrations/sqlite/*.sql")
	if len(files) < 2 {
		t.Fatalf("found %d migration files", len(files))
	}
	line := func(state, file string) *regexp.Regexp {
		version, name, _ := strings.Cut(strings.TrimSuffix(filepath.Base(file), ".sql"), "_")
		return regexp.MustCompile(`(?m)^  ` + state + `  ` + version + `  ` + regexp.QuoteMeta(name) + `\b`)
	}
	_, out := runBin(t, bin, env, "migrate", "--status")
	for _, f := range files {
		if !line("pending", f).MatchString(out) {
			t.Errorf("migrate --status on a new database does not list %s as pending:\n%s", filepath.Base(f), out)
		}
	}
	if code, out := runBin(t, bin, env, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	_, out = runBin(t, bin, env, "migrate", "--status")
	for _, f := range files {
		if !line("applied", f).MatchString(out) {
			t.Errorf("migrate --status after migrate does not list %s as applied:\n%s", filepath.Base(f), out)
		}
	}
	if !strings.Contains(out, "up to date") {
		t.Errorf("migrate --status:\n%s", out)
	}
}

// server is a running `membergraph serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	mu     sync.Mutex
	logs   bytes.Buffer
	tokens map[string]string // label of a printed development token → token
	done   chan error
}

var tokenLine = regexp.MustCompile(`^\s+Authorization: Bearer (\S+)$`)

// startServe starts serve in dir (its working directory) with env and waits until it is
// ready; it is stopped when the test ends.
func startServe(t *testing.T, bin, dir string, env []string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, base: "http://" + addr, tokens: map[string]string{}, done: make(chan error, 1)}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		label := ""
		for sc.Scan() {
			l := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(l + "\n")
			if m := tokenLine.FindStringSubmatch(l); m != nil && label != "" {
				s.tokens[label] = m[1]
			} else if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "    ") {
				label, _, _ = strings.Cut(strings.TrimSpace(l), "  ")
			}
			s.mu.Unlock()
		}
	}()
	go func() { <-scanned; s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.stop() })
	for range 300 {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				time.Sleep(50 * time.Millisecond) // the token lines follow the "serving" line
				return s
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("serve exited: %v\n%s", err, s.log())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("serve not ready after 30 s:\n%s", s.log())
	return nil
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func (s *server) token(label string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[label]
}

// stop sends SIGTERM and waits for the exit.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Errorf("serve did not stop after SIGTERM")
	}
}

// get fetches path with token ("" for none).
func (s *server) get(path, token string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(s.t, req)
}

// query posts a GraphQL query with token.
func (s *server) query(token, q string) (int, string) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	req, _ := http.NewRequest(http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return do(s.t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// logLine finds the JSON log line with msg.
func (s *server) logLine(msg string) map[string]any {
	for _, l := range strings.Split(s.log(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			return m
		}
	}
	return nil
}

// TestDevelopmentTokensSurviveRestarts is the new user's second hour: with no secret the
// server keeps one in the state directory (beside the SQLite file, mode 0600), prints
// ADMIN, SERVICE and MEMBER tokens without ever printing the secret, says which files it
// uses, and after a restart the old tokens still work, as do those `membergraph token` makes.
func TestDevelopmentTokensSurviveRestarts(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	env := []string{"MEMBERGRAPH_DATABASE_URL=sqlite://data/mg.db", "MEMBERGRAPH_PLUGIN_DIR=no-plugins"}
	s := startServe(t, bin, work, env)

	dataDir := filepath.Join(work, "data")
	secretFile := filepath.Join(dataDir, auth.DevSecretFile)
	info, err := os.Stat(secretFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("development secret %s: %v, %v", secretFile, info, err)
	}
	secret, _ := os.ReadFile(secretFile)
	if strings.Contains(s.log(), strings.TrimSpace(string(secret))) {
		t.Error("serve printed the development secret")
	}
	start := s.logLine("starting")
	if start == nil || start["database_file"] != filepath.Join(dataDir, "mg.db") || start["state_dir"] != dataDir ||
		start["plugin_dir"] != filepath.Join(work, "no-plugins") {
		t.Errorf("start log = %v; want the absolute database file, state and plugin directories", start)
	}
	if warn := s.logLine("no database file: created a new, empty one; if you meant an existing one, check MEMBERGRAPH_DATABASE_URL and the working directory"); warn == nil || warn["level"] != "WARN" {
		t.Errorf("no warning about the new database file:\n%s", s.log())
	}

	admin, service, member := s.token("ADMIN"), s.token("SERVICE"), s.token("MEMBER "+devMember)
	if admin == "" || service == "" || member == "" {
		t.Fatalf("tokens printed: %v\n%s", s.tokens, s.log())
	}
	for label, tok := range map[string]string{"ADMIN": admin, "SERVICE": service} {
		if code, body := s.query(tok, `{ program { key } }`); code != 200 || !strings.Contains(body, `"key":"jd"`) {
			t.Errorf("%s token: HTTP %d %s", label, code, body)
		}
	}
	if _, body := s.query(admin, `{ viewer { externalId } }`); !strings.Contains(body, "FORBIDDEN") || !strings.Contains(body, "needs a MEMBER token") {
		t.Errorf("viewer with the ADMIN token: %s", body)
	}
	if code, body := s.query(member, `{ viewer { externalId } }`); code != 200 || strings.Contains(body, "errors") {
		t.Errorf("viewer with the MEMBER token: HTTP %d %s", code, body)
	}
	if _, html := s.get("/", ""); !strings.Contains(html, admin) {
		t.Error("the ADMIN token is not pre-filled in the development playground")
	}
	if code, body := s.get("/healthz", ""); code != 200 || !strings.HasPrefix(body, "ok\n") || !strings.Contains(body, "version ") {
		t.Errorf("/healthz: %d %q", code, body)
	}

	// membergraph token signs for this server with the same file, found the same way.
	cmd := exec.Command(bin, "token", "--role", "service")
	cmd.Dir, cmd.Env = work, append(cleanEnv(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("membergraph token: %v", err)
	}
	cliToken := strings.TrimSpace(string(out))
	if code, _ := s.query(cliToken, `{ program { key } }`); code != 200 {
		t.Errorf("a token of membergraph token: HTTP %d", code)
	}

	s.stop()
	again := startServe(t, bin, work, env)
	for label, tok := range map[string]string{"ADMIN": admin, "token command": cliToken} {
		if code, body := again.query(tok, `{ program { key } }`); code != 200 {
			t.Errorf("%s token after a restart: HTTP %d %s", label, code, body)
		}
	}
	if again.logLine("created the development secret") != nil || again.logLine("no database file: created a new, empty one; if you meant an existing one, check MEMBERGRAPH_DATABASE_URL and the working directory") != nil {
		t.Errorf("the restart made a new secret or database:\n%s", again.log())
	}
	if s, _ := os.ReadFile(secretFile); string(s) != string(secret) {
		t.Error("the restart changed the secret")
	}
}

// TestConfiguredSecretHasNoDevelopmentTokens: with a secret set, nothing is pre-filled in the
// playground, no tokens are printed and no development secret is written.
func TestConfiguredSecretHasNoDevelopmentTokens(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	s := startServe(t, bin, work, []string{"MEMBERGRAPH_AUTH_SECRET=" + testSecret, "MEMBERGRAPH_DATABASE_URL=sqlite://data/mg.db"})
	jwt := regexp.MustCompile(`Bearer eyJ[\w-]+\.`)
	if code, html := s.get("/", ""); code != 200 || jwt.MatchString(html) {
		t.Errorf("playground with a configured secret: HTTP %d, pre-filled token: %q", code, jwt.FindString(html))
	}
	if strings.Contains(s.log(), "Authorization: Bearer") || strings.Contains(s.log(), testSecret) {
		t.Errorf("serve printed tokens or the secret:\n%s", s.log())
	}
	if _, err := os.Stat(filepath.Join(work, "data", auth.DevSecretFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a development secret was written: %v", err)
	}
}

// TestTakenPortFailsFast: serve listens before it opens the database, migrates or starts
// plugins, so a taken port fails at once and leaves no database behind.
func TestTakenPortFailsFast(t *testing.T) {
	bin := buildBinary(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, args := range [][]string{
		{"--addr", taken.Addr().String()},
		{"--addr", freeAddr(t), "--metrics-addr", taken.Addr().String()},
	} {
		dir := t.TempDir()
		dbFile := filepath.Join(dir, "mg.db")
		began := time.Now()
		code, out := runBin(t, bin, []string{"MEMBERGRAPH_DATABASE_URL=sqlite://" + dbFile}, append([]string{"serve"}, args...)...)
		took := time.Since(began)
		if code == 0 || !strings.Contains(out, "listening on "+taken.Addr().String()) {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
		if _, err := os.Stat(dbFile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: the database was opened before listening (%v)", args, err)
		}
		if took > 2*time.Second {
			t.Errorf("%v: failing took %s", args, took)
		}
	}
}

// TestMetricsAddress: with --metrics-addr, /metrics is served there and not on the API; in
// production without one it needs an ADMIN token.
func TestMetricsAddress(t *testing.T) {
	bin := buildBinary(t)
	metricsAddr := freeAddr(t)
	s := startServe(t, bin, t.TempDir(), []string{"MEMBERGRAPH_DATABASE_URL=sqlite://mg.db", "MEMBERGRAPH_METRICS_ADDR=" + metricsAddr})
	if code, _ := s.get("/metrics", s.token("ADMIN")); code != http.StatusNotFound {
		t.Errorf("/metrics on the API with a metrics address: HTTP %d, want 404", code)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("membergraph_settlement_last_success_timestamp_seconds")) {
		t.Errorf("/metrics on %s: HTTP %d", metricsAddr, resp.StatusCode)
	}
	s.stop()

	p := startServe(t, bin, t.TempDir(), []string{"MEMBERGRAPH_DATABASE_URL=sqlite://mg.db", "MEMBERGRAPH_AUTH_SECRET=" + testSecret}, "--production")
	signer, _ := auth.NewSigner([]byte(testSecret), nil)
	adminTok, _ := signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Subject: "ops", TTL: time.Hour})
	serviceTok, _ := signer.Issue(auth.TokenRequest{Role: auth.RoleService, TTL: time.Hour})
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {serviceTok, 403}, {adminTok, 200}} {
		if code, _ := p.get("/metrics", tc.token); code != tc.want {
			t.Errorf("production /metrics: HTTP %d, want %d", code, tc.want)
		}
	}
}

// TestPluginStateLivesInTheStateDirectory: a partner plugin's state is kept under the state
// directory (beside the SQLite file: data/plugins/KEY), not in the plugin directory of the
// build output, which `make clean` deletes.
func TestPluginStateLivesInTheStateDirectory(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	pluginDir := filepath.Join(work, "bin", "plugins")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "videovip"), "../../partners/videovip").CombinedOutput(); err != nil {
		t.Fatalf("building the videovip partner: %v\n%s", err, out)
	}
	if code, out := runBin(t, bin, nil, "plugins", "trust", "--plugin-dir", pluginDir, "videovip"); code != 0 {
		t.Fatalf("plugins trust: %d\n%s", code, out)
	}
	s := startServe(t, bin, work, []string{"MEMBERGRAPH_DATABASE_URL=sqlite://data/mg.db", "MEMBERGRAPH_PLUGIN_DIR=bin/plugins"})
	if _, body := s.query(s.token("ADMIN"), `{ partners { key status } }`); !strings.Contains(body, `{"key":"videovip","status":"RUNNING"}`) {
		t.Fatalf("partners: %s\n%s", body, s.log())
	}
	if info, err := os.Stat(filepath.Join(work, "data", "plugins", "videovip")); err != nil || !info.IsDir() {
		t.Errorf("no state directory data/plugins/videovip: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pluginDir, "state")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plugin state under the build output: %v", err)
	}
}

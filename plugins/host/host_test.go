package host_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// testBinary is the test partner, built once.
var testBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "testpartner")
	if err != nil {
		panic(err)
	}
	testBinary = filepath.Join(dir, "testpartner")
	out, err := exec.Command("go", "build", "-o", testBinary, "./testdata/testpartner").CombinedOutput()
	if err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pluginDir makes a plugin directory with the test partner under the given names, all
// trusted.
func pluginDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile(testBinary)
	if err != nil {
		t.Fatal(err)
	}
	cat := host.Catalogue{}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), raw, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := cat.Trust(dir, names...); err != nil {
		t.Fatal(err)
	}
	if err := cat.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func start(t *testing.T, dir string) *host.Manager {
	t.Helper()
	m, err := host.Start(context.Background(), host.Config{Dir: dir, CallTimeout: 700 * time.Millisecond, FailAfter: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func grant(m *host.Manager, key, benefit, idem string) (*partnerv1.GrantResponse, error) {
	var res *partnerv1.GrantResponse
	err := m.Call(context.Background(), key, func(ctx context.Context, c *sdk.Client) error {
		var err error
		res, err = c.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: idem, BenefitKey: benefit, Member: &partnerv1.Member{ExternalId: "alice"}})
		return err
	})
	return res, err
}

// TestDiscoveryAndTrust: trusted partners run; a tampered one, one missing from the
// catalogue and one that breaks the protocol are FAILED with a reason; the host is fine.
func TestDiscoveryAndTrust(t *testing.T) {
	dir := pluginDir(t, "good", "garbage", "evil")
	// Tamper with evil after it was trusted, and add an executable nobody trusted.
	f, _ := os.OpenFile(filepath.Join(dir, "evil"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("tampered"))
	f.Close()
	raw, _ := os.ReadFile(testBinary)
	os.WriteFile(filepath.Join(dir, "stranger"), raw, 0o755)

	m := start(t, dir)
	want := map[string]struct {
		status host.Status
		reason string
	}{
		"good":     {host.Running, ""},
		"garbage":  {host.Failed, "starting garbage"},
		"evil":     {host.Failed, "not the trusted build"},
		"stranger": {host.Failed, "not in the trusted catalogue"},
	}
	for _, p := range m.Partners() {
		w := want[p.Key]
		if p.Status != w.status || !strings.Contains(p.Reason, w.reason) {
			t.Errorf("%s: %s %q, want %s %q", p.Key, p.Status, p.Reason, w.status, w.reason)
		}
	}
	if _, err := grant(m, "evil", "FAST", "k"); !errors.Is(err, host.ErrUnavailable) {
		t.Errorf("grant through a refused partner: %v", err)
	}
	if g, err := grant(m, "good", "FAST", "k1"); err != nil || g.GrantId == "" {
		t.Fatalf("grant: %v", err)
	}
}

// TestKillDuringGrant: kill -9 of the plugin in the middle of a grant fails the call within
// its deadline, the partner runs again within a second, and the retried grant with the same
// key is granted once.
func TestKillDuringGrant(t *testing.T) {
	m := start(t, pluginDir(t, "good"))
	pid := m.PID("good")
	errc := make(chan error, 1)
	began := time.Now()
	go func() {
		_, err := grant(m, "good", "SLOW", "retry-me")
		errc <- err
	}()
	time.Sleep(150 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	if err == nil || time.Since(began) > time.Second {
		t.Fatalf("grant during kill: %v after %s", err, time.Since(began))
	}
	killed := time.Now()
	for {
		if info, _ := m.Info("good"); info.Status == host.Running && m.PID("good") != pid {
			break
		}
		if time.Since(killed) > time.Second {
			info, _ := m.Info("good")
			t.Fatalf("not running again within 1 s: %+v", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	first, err := grant(m, "good", "SLOW", "retry-me")
	if err != nil {
		t.Fatal(err)
	}
	again, err := grant(m, "good", "SLOW", "retry-me")
	if err != nil || again.GrantId != first.GrantId {
		t.Fatalf("retried grant: %v, %s vs %s", err, again.GetGrantId(), first.GrantId)
	}
}

// TestHangingPartner: a plugin that never answers fails the call at its deadline and, after
// repeated failures, its circuit opens.
func TestHangingPartner(t *testing.T) {
	m := start(t, pluginDir(t, "hang"))
	for i := range 5 {
		began := time.Now()
		_, err := grant(m, "hang", "FAST", "k")
		if !errors.Is(err, host.ErrUnavailable) || time.Since(began) > 2*time.Second { // the 700 ms deadline, with room for a loaded machine
			t.Fatalf("call %d: %v after %s", i, err, time.Since(began))
		}
	}
	if _, err := grant(m, "hang", "FAST", "k"); !errors.Is(err, host.ErrCircuitOpen) {
		t.Fatalf("after 5 timeouts: %v", err)
	}
}

// TestNoOrphans: closing the manager stops every plugin process.
func TestNoOrphans(t *testing.T) {
	m := start(t, pluginDir(t, "good", "good2"))
	pids := []int{m.PID("good"), m.PID("good2")}
	m.Close()
	time.Sleep(100 * time.Millisecond)
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("plugin %d still runs", pid)
		}
	}
}

// TestPluginsDieWithAKilledHost: SIGKILL of the server leaves no plugin behind.
func TestPluginsDieWithAKilledHost(t *testing.T) {
	dir := pluginDir(t, "good")
	bin := filepath.Join(t.TempDir(), "testhost")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/testhost").CombinedOutput(); err != nil {
		t.Fatal(string(out))
	}
	cmd := exec.Command(bin, dir)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscan(stdout, &pid); err != nil || pid == 0 {
		t.Fatalf("plugin pid: %d, %v", pid, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d outlived its killed host", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPluginEnvironment: a plugin gets none of the server's environment (no database URL,
// no secrets), only a PATH, its HOME and go-plugin's own variables.
func TestPluginEnvironment(t *testing.T) {
	t.Setenv("MEMBERGRAPH_DATABASE_URL", "mysql://root:secret@tcp(db:3306)/prod")
	t.Setenv("MEMBERGRAPH_AUTH_SECRET", "do-not-leak")
	m := start(t, pluginDir(t, "good"))
	g, err := grant(m, "good", "ENV", "env")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(g.Code, "\x00") {
		name, _, _ := strings.Cut(kv, "=")
		if name != "PATH" && name != "HOME" && !strings.HasPrefix(name, "PLUGIN_") && name != sdk.Handshake.MagicCookieKey {
			t.Errorf("the plugin sees %s", name)
		}
		if strings.Contains(kv, "secret") || strings.Contains(kv, "do-not-leak") {
			t.Errorf("leaked: %s", kv)
		}
	}
}

// TestConcurrencyLimit: calls beyond a partner's limit are refused at once, not queued.
func TestConcurrencyLimit(t *testing.T) {
	m, err := host.Start(context.Background(), host.Config{Dir: pluginDir(t, "good"), MaxConcurrent: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	done := make(chan error, 1)
	go func() { _, err := grant(m, "good", "SLOW", "slow"); done <- err }()
	time.Sleep(100 * time.Millisecond)
	if _, err := grant(m, "good", "FAST", "fast"); !errors.Is(err, host.ErrBusy) {
		t.Fatalf("second call at a limit of 1: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the first call: %v", err)
	}
	if _, err := grant(m, "good", "FAST", "fast"); err != nil {
		t.Fatalf("after the first call: %v", err)
	}
}

// alive reports whether pid runs. An exited plugin whose new parent has not reaped it yet
// (a zombie, as under an init that does not reap) has ended.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust the signal
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// TestBreakerClosesOnRestart: calls made while a killed plugin is noticed fail and open its
// circuit (5 faults); the restarted plugin answers describe and configure, and from the
// moment its status reads RUNNING again every call is served, not refused for the rest of
// the 10 s cooldown.
func TestBreakerClosesOnRestart(t *testing.T) {
	m := start(t, pluginDir(t, "good"))
	pid := m.PID("good")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Until the supervisor notices, calls reach a dead process and fail as faults.
	killed, refused := time.Now(), 0
	for {
		info, _ := m.Info("good")
		if info.Status == host.Running && m.PID("good") != pid && m.PID("good") != 0 {
			break
		}
		if _, err := grant(m, "good", "FAST", fmt.Sprintf("during-%d", refused)); err != nil {
			refused++
		}
		time.Sleep(time.Millisecond)
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("not running again within 2 s: %+v", info)
		}
	}
	info, _ := m.Info("good")
	if info.Calls["fault"] < 5 {
		t.Fatalf("only %d faults while the plugin was dead (calls %v): the circuit never opened, the test proves nothing", info.Calls["fault"], info.Calls)
	}
	for i := range 20 {
		if _, err := grant(m, "good", "FAST", fmt.Sprintf("after-%d", i)); err != nil {
			t.Fatalf("call %d after the restart, %s after the kill: %v (calls %v)", i, time.Since(killed), err, info.Calls)
		}
	}
	t.Logf("%d calls refused while restarting (%v), none after", refused, info.Calls)
}

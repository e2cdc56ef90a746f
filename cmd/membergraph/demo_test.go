package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/demo"
)

const demoTestSecret = "demo-test-secret-of-at-least-32-bytes"

// TestServeLoadsDemo starts the real binary on empty SQLite files: by default it loads the
// demo before it opens the API; --no-demo, MEMBERGRAPH_DEMO=false and --production start
// empty.
func TestServeLoadsDemo(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		demo bool
	}{
		{"default", nil, nil, true},
		{"--no-demo", []string{"--no-demo"}, nil, false},
		{"MEMBERGRAPH_DEMO=false", nil, []string{"MEMBERGRAPH_DEMO=false"}, false},
		{"--production", []string{"--production"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, stop := startDemoServe(t, bin, tc.args, tc.env)
			defer stop()
			var out struct {
				Data struct {
					Member *struct {
						Tier struct{ Key string }
					}
					Members struct{ TotalCount int }
				}
				Errors []struct{ Message string }
			}
			demoQuery(t, base, `query Demo { member(externalId: "`+demo.ShowcaseMember+`") { tier { key } } members(first: 1) { totalCount } }`, &out)
			if len(out.Errors) > 0 {
				t.Fatalf("errors: %v", out.Errors)
			}
			if tc.demo {
				// The showcase member's figures are worked by hand in internal/demo's test; the
				// month of the real clock does not change its tier.
				if out.Data.Members.TotalCount != 300 || out.Data.Member == nil || out.Data.Member.Tier.Key != "GOLD" {
					t.Errorf("members %d, showcase %+v; want the 300 demo members, %s at GOLD", out.Data.Members.TotalCount, out.Data.Member, demo.ShowcaseMember)
				}
			} else if out.Data.Members.TotalCount != 0 || out.Data.Member != nil {
				t.Errorf("members %d, showcase %+v; want an empty programme", out.Data.Members.TotalCount, out.Data.Member)
			}
		})
	}
}

// startDemoServe runs serve on a new SQLite file and waits until it answers /readyz.
func startDemoServe(t *testing.T, bin string, args, env []string) (base string, stop func()) {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--plugin-dir", filepath.Join(dir, "plugins")}, args...)...)
	cmd.Env = append(os.Environ(), append([]string{"MEMBERGRAPH_AUTH_SECRET=" + demoTestSecret, "MEMBERGRAPH_DEMO=",
		"MEMBERGRAPH_DATABASE_URL=sqlite://" + filepath.Join(dir, "mg.db"), "MEMBERGRAPH_STATE_DIR=" + dir}, env...)...)
	var logs demoLog
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	base = "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop
			}
		}
		select {
		case <-exited:
			t.Fatalf("serve %v exited:\n%s", args, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("serve %v not ready: %v\n%s", args, err, logs.String())
		}
	}
}

func demoQuery(t *testing.T, base, query string, out any) {
	t.Helper()
	signer, err := auth.NewSigner([]byte(demoTestSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Subject: "test", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
	}
}

// demoLog is a buffer the child's stderr writes while the test reads it.
type demoLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *demoLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *demoLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoCommand runs `membergraph demo` twice on a new SQLite file: the second run
// finds every event stored and changes nothing.
func TestDemoCommand(t *testing.T) {
	bin := buildBinary(t)
	url := "sqlite://" + filepath.Join(t.TempDir(), "mg.db")
	run := func() string {
		out, err := exec.Command(bin, "demo", "--database-url", url, "--members", "40", "--seed", "5").CombinedOutput()
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
		return string(out)
	}
	first, second := run(), run()
	if !strings.Contains(first, "40 members (40 registered now)") || !strings.Contains(first, "0 duplicates") ||
		!strings.Contains(first, "demo members per tier: Registered ") {
		t.Errorf("first run:\n%s", first)
	}
	if !strings.Contains(second, "40 members (0 registered now)") || !strings.Contains(second, " (0 accepted now, ") ||
		!strings.Contains(second, "0 upgrade gifts delivered") {
		t.Errorf("second run:\n%s", second)
	}
	tiers := func(s string) string {
		return s[strings.Index(s, "demo members per tier"):strings.Index(s, "showcase member")]
	}
	if tiers(first) != tiers(second) {
		t.Errorf("tiers differ: %q then %q", tiers(first), tiers(second))
	}
	out, err := exec.Command(bin, "demo", "--database-url", url, "--members", "0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--members must be 1–9999") {
		t.Errorf("--members 0: %v %s", err, out)
	}
}

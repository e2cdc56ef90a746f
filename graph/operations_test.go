package graph_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// scrape reads /metrics from base, with token when not empty.
func scrape(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricLines are the sample lines of text that start with one of the names.
func metricLines(text string, names ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, n := range names {
			if strings.HasPrefix(l, n+"{") || strings.HasPrefix(l, n+" ") {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestDomainMetrics scrapes /metrics after real events, spends, an adjustment and expiry.
// The figures, from docs/domain.md §3: a web order with a ¥15,000 line (10% of ¥15,000 is 1,500,
// capped at 1,000 per line off the app) and a ¥6,000 line (600) earns 1,600; a check-in 5:
// 1,605 issued by PLATFORM. A deduction of 1,000 is spent; an exchange of 5,000 is refused
// (only 605 left) and counts nothing; an adjustment of -5 takes 5 back; the 600 left, earned
// in 2026, expire at the end of 2027.
func TestDomainMetrics(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		now := a.now()
		checkIn := at(map[string]any{"idempotencyKey": "c1", "externalId": "alice", "kind": "CHECK_IN", "channel": "APP"}, now)
		res := a.record(
			at(orderEvent("o1", "alice", "O-1", "WEB", ln("s1", "PHONES", 1_500_000), ln("s2", "FOOD", 600_000)), now),
			checkIn,
			at(orderEvent("o2", "nobody", "O-2", "WEB", ln("s1", "PHONES", 10_000)), now),
		)
		if res[0].Points != 1600 || res[1].Points != 5 || res[2].Status != "REJECTED" {
			t.Fatalf("recordEvents = %+v", res)
		}
		if again := a.record(checkIn); again[0].Status != "DUPLICATE" {
			t.Fatalf("replay = %+v", again)
		}
		if c := a.change(auth.RoleService, spendMutation, "spendPoints", map[string]any{"externalId": "alice", "points": 1000,
			"orderAmountCents": 300_000, "purpose": "ORDER_DEDUCTION", "idempotencyKey": "s1"}); codeOf(c) != "" {
			t.Fatalf("spend: %+v", c.UserErrors)
		}
		if c := a.change(auth.RoleService, spendMutation, "spendPoints", map[string]any{"externalId": "alice", "points": 5000,
			"purpose": "EXCHANGE", "idempotencyKey": "s2"}); codeOf(c) != "FAILED_PRECONDITION" {
			t.Fatalf("spend beyond the balance: %+v", c.UserErrors)
		}
		if c := a.adjust("alice", -5, "adj1"); codeOf(c) != "" {
			t.Fatalf("adjust: %+v", c.UserErrors)
		}
		a.clock.Set(time.Date(2028, 1, 2, 0, 0, 0, 0, time.UTC))
		if st, err := a.ledger.ExpireAll(context.Background()); err != nil || st.Points != 600 {
			t.Fatalf("expiry: %+v, %v", st, err)
		}

		_, text := scrape(t, a.srv.URL, "")
		got := metricLines(text, "membergraph_events_total", "membergraph_points_issued_total", "membergraph_points_spent_total",
			"membergraph_points_expired_total", "membergraph_points_taken_back_total", "membergraph_points_spend_reversed_total")
		want := strings.Join([]string{
			`membergraph_events_total{kind="CHECK_IN",status="ACCEPTED"} 1`,
			`membergraph_events_total{kind="CHECK_IN",status="DUPLICATE"} 1`,
			`membergraph_events_total{kind="ORDER_COMPLETED",status="ACCEPTED"} 1`,
			`membergraph_events_total{kind="ORDER_COMPLETED",status="REJECTED"} 1`,
			`membergraph_points_expired_total{funder="PLATFORM"} 600`,
			`membergraph_points_issued_total{funder="PLATFORM"} 1605`,
			`membergraph_points_spent_total{funder="PLATFORM"} 1000`,
			`membergraph_points_taken_back_total{funder="PLATFORM"} 5`,
		}, "\n")
		if got != want {
			t.Errorf("domain metrics:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestSettlementMetrics: a settlement run counts, with its duration and the time it
// succeeded; a refused request (a period in the future) ran nothing and counts nothing.
func TestSettlementMetrics(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		before := time.Now().Unix()
		a.settle("2026-11")
		r := a.do(a.token(auth.RoleAdmin, "ops"), `mutation { settleScores(input: {period: "2027-05"}) { userErrors { code } } }`, nil)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data["settleScores"]), "FAILED_PRECONDITION") {
			t.Fatalf("future period: %s %+v", r.Data["settleScores"], r.Errors)
		}
		_, text := scrape(t, a.srv.URL, "")
		got := metricLines(text, "membergraph_settlement_runs_total", "membergraph_settlement_run_duration_seconds_count")
		want := "membergraph_settlement_run_duration_seconds_count 1\nmembergraph_settlement_runs_total{outcome=\"done\"} 1"
		if got != want {
			t.Errorf("settlement metrics:\n%s\nwant:\n%s", got, want)
		}
		var last float64
		for _, l := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(l, "membergraph_settlement_last_success_timestamp_seconds "); ok {
				last, _ = strconv.ParseFloat(v, 64)
			}
		}
		if int64(last) < before || int64(last) > time.Now().Unix() {
			t.Errorf("last success at %v, want between %d and now", last, before)
		}
	})
}

// TestMetricsExposure: /metrics is open in development, behind an ADMIN token when asked
// (production without a metrics address), and absent from the API when it has an address
// of its own, where MetricsHandler serves it.
func TestMetricsExposure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		open := newAPI(t, db)
		if code, body := scrape(t, open.srv.URL, ""); code != 200 || !strings.Contains(body, "go_goroutines") {
			t.Errorf("open: HTTP %d", code)
		}

		admin := newAPI(t, db, func(c *graph.ServerConfig) { c.Metrics = graph.MetricsAdmin })
		if code, _ := scrape(t, admin.srv.URL, ""); code != http.StatusUnauthorized {
			t.Errorf("admin-only without a token: HTTP %d, want 401", code)
		}
		if code, _ := scrape(t, admin.srv.URL, admin.token(auth.RoleService, "")); code != http.StatusForbidden {
			t.Errorf("admin-only with a SERVICE token: HTTP %d, want 403", code)
		}
		if code, body := scrape(t, admin.srv.URL, admin.token(auth.RoleAdmin, "ops")); code != 200 || !strings.Contains(body, "membergraph_http_requests_total") {
			t.Errorf("admin-only with an ADMIN token: HTTP %d", code)
		}

		var cfg graph.ServerConfig
		elsewhere := newAPI(t, db, func(c *graph.ServerConfig) { c.Metrics = graph.MetricsElsewhere; cfg = *c })
		if code, _ := scrape(t, elsewhere.srv.URL, elsewhere.token(auth.RoleAdmin, "ops")); code != http.StatusNotFound {
			t.Errorf("metrics elsewhere, on the API: HTTP %d, want 404", code)
		}
		// serve with --metrics-addr serves MetricsHandler on that address.
		own := httptest.NewServer(graph.NewServer(cfg).MetricsHandler())
		t.Cleanup(own.Close)
		if code, body := scrape(t, own.URL, ""); code != 200 || !strings.Contains(body, "go_goroutines") {
			t.Errorf("metrics on their own address: HTTP %d", code)
		}
	})
}

func TestHealthzNamesTheVersion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db, func(c *graph.ServerConfig) { c.Version = "v9.8.7-test" })
		resp, err := http.Get(a.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "ok\n") || !strings.Contains(string(b), "v9.8.7-test") {
			t.Errorf("/healthz: HTTP %d %q", resp.StatusCode, b)
		}
	})
}

func TestViewerNeedsAMemberToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleService, auth.RoleStore, auth.RolePartner} {
			r := a.do(a.token(role, "x"), `{ viewer { externalId } }`, nil)
			if r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "MEMBER token") ||
				!strings.Contains(r.Errors[0].Message, "member(externalId:)") {
				t.Errorf("viewer as %s: %+v", role, r.Errors)
			}
		}
		var out struct{ Viewer struct{ ExternalID string } }
		a.must(a.token(auth.RoleMember, "alice"), `{ viewer { externalId } }`, nil, &out)
		if out.Viewer.ExternalID != "alice" {
			t.Errorf("viewer as alice = %+v", out)
		}
	})
}

// syncBuffer is a log sink the server's goroutines write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPlaygroundAssetsLogAtDebug: one page view fetches a dozen assets; at the default
// level only the page and API requests are logged.
func TestPlaygroundAssetsLogAtDebug(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
			var logs syncBuffer
			a := newAPI(t, db, func(c *graph.ServerConfig) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
			})
			page, err := http.Get(a.srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			html, _ := io.ReadAll(page.Body)
			page.Body.Close()
			asset := assetPath(string(html))
			if asset == "" {
				t.Fatalf("no /playground/ asset in the page:\n%.500s", html)
			}
			resp, err := http.Get(a.srv.URL + asset)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: HTTP %d", asset, resp.StatusCode)
			}
			// The access log line is written just after the response.
			time.Sleep(200 * time.Millisecond)
			path, _, _ := strings.Cut(asset, "?")
			logged := strings.Contains(logs.String(), "path="+path+" ")
			if logged != (level == slog.LevelDebug) {
				t.Errorf("at %s the asset request was logged: %v\n%s", level, logged, logs.String())
			}
			if !strings.Contains(logs.String(), "path=/ ") {
				t.Errorf("at %s the page request was not logged:\n%s", level, logs.String())
			}
		}
	})
}

// assetPath finds the first /playground/ URL path in html.
func assetPath(html string) string {
	i := strings.Index(html, "/playground/")
	if i < 0 {
		return ""
	}
	end := strings.IndexAny(html[i:], `"' )`)
	if end < 0 {
		return ""
	}
	return html[i : i+end]
}

package graph_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/plugins/host"
)

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// builtPlugins builds the shipped partners, and the host's test partner as "slowpoke", once.
func builtPlugins(t *testing.T) string {
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "membergraph-plugins")
		if buildErr != nil {
			return
		}
		for _, p := range []struct{ name, dir, pkg string }{
			{"videovip", "..", "./partners/videovip"}, {"cobrandcard", "..", "./partners/cobrandcard"},
			{"pointsexchange", "..", "./partners/pointsexchange"}, {"slowpoke", "../plugins", "./host/testdata/testpartner"},
		} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(builtDir, p.name), p.pkg)
			cmd.Dir = p.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = &buildError{string(out)}
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	entries, _ := os.ReadDir(builtDir)
	cat := host.Catalogue{}
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(builtDir, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), raw, 0o755)
		cat.Trust(dir, e.Name())
	}
	if err := cat.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

type buildError struct{ out string }

func (e *buildError) Error() string { return e.out }

// newPartnerAPI is an API server whose partners run from a plugin directory with all four
// plugins.
func newPartnerAPI(t *testing.T, db *store.DB) (*api, *host.Manager, *partner.Service) {
	return newPartnerAPIIn(t, db, builtPlugins(t))
}

// newPartnerAPIIn is an API server whose partners run from the plugin directory dir.
func newPartnerAPIIn(t *testing.T, db *store.DB, dir string) (*api, *host.Manager, *partner.Service) {
	var (
		mgr *host.Manager
		svc *partner.Service
	)
	a := newAPI(t, db, func(cfg *graph.ServerConfig) {
		pid, _ := cfg.Programs.IDByKey(context.Background(), "jd")
		svc = partner.NewService(db.Client, cfg.Ledger, pid, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m, err := host.Start(context.Background(), host.Config{Dir: dir, CallTimeout: time.Second,
			// Warnings reach the test's output (shown when it fails): restarts and their reasons.
			Host: svc.Callbacks, Settings: svc.Settings, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		svc.SetRunner(m)
		mgr, cfg.Partners = m, svc
	})
	return a, mgr, svc
}

type grantView struct {
	ID, Partner, Benefit, Status, Code, Detail string
}

func (a *api) claim(token, ext, partner, benefit, key string, params map[string]string) (grantView, bool, userError) {
	a.t.Helper()
	var ps []map[string]string
	for k, v := range params {
		ps = append(ps, map[string]string{"key": k, "value": v})
	}
	var out struct {
		ClaimPartnerBenefit struct {
			Grant      *grantView
			Replayed   bool
			UserErrors []userError
		}
	}
	a.must(token, `mutation($e: String!, $p: String!, $b: String!, $k: String!, $ps: [ConfigEntryInput!]) {
		claimPartnerBenefit(input: {externalId: $e, partner: $p, benefit: $b, idempotencyKey: $k, params: $ps}) {
			grant { id partner benefit status code detail } replayed userErrors { code message } } }`,
		map[string]any{"e": ext, "p": partner, "b": benefit, "k": key, "ps": ps}, &out)
	var g grantView
	if out.ClaimPartnerBenefit.Grant != nil {
		g = *out.ClaimPartnerBenefit.Grant
	}
	var ue userError
	if len(out.ClaimPartnerBenefit.UserErrors) > 0 {
		ue = out.ClaimPartnerBenefit.UserErrors[0]
	}
	return g, out.ClaimPartnerBenefit.Replayed, ue
}

// TestPartnerBenefits drives the three shipped partners through the API: eligibility,
// idempotent claims, revoke, the card's spend awarded from the bank's budget and never
// beyond it, the exchange's points, the switches, and who may do what.
func TestPartnerBenefits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _, _ := newPartnerAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		admin, alice := a.token(auth.RoleAdmin, "ops"), a.token(auth.RoleMember, "alice")

		var ps struct {
			Partners []struct {
				Key, Status string
				Benefits    []struct{ Key string }
			}
		}
		a.must(alice, `{ partners { key status benefits { key } } }`, nil, &ps)
		if len(ps.Partners) != 4 {
			t.Fatalf("partners = %+v", ps.Partners)
		}
		for _, p := range ps.Partners {
			if p.Status != "RUNNING" || len(p.Benefits) == 0 {
				t.Errorf("%s: %s, %d benefits", p.Key, p.Status, len(p.Benefits))
			}
		}

		// videovip: not for a Registered member until an admin names her.
		if _, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v1", nil); ue.Code != "FAILED_PRECONDITION" {
			t.Fatalf("ineligible claim: %+v", ue)
		}
		// The refusal is kept: its key answers it again, as a replay of the same refusal.
		if g, replayed, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v1", nil); !replayed || g.Status != "REFUSED" || ue.Code != "FAILED_PRECONDITION" {
			t.Fatalf("replayed refusal: %+v %v %+v", g, replayed, ue)
		}
		var conf struct {
			ConfigurePartner struct{ UserErrors []userError }
		}
		a.must(admin, `mutation { configurePartner(input: {partner: "videovip", config: [{key: "eligible_members", value: "alice"}]}) { userErrors { code } } }`, nil, &conf)
		a.must(admin, `mutation { configurePartner(input: {partner: "videovip", config: [{key: "no_such", value: "x"}]}) { userErrors { code } } }`, nil, &conf)
		if len(conf.ConfigurePartner.UserErrors) != 1 || conf.ConfigurePartner.UserErrors[0].Code != "INVALID_ARGUMENT" {
			t.Fatalf("unknown setting accepted: %+v", conf)
		}
		g, replayed, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v2", nil)
		if ue.Code != "" || g.Status != "GRANTED" || len(g.Code) != 23 || replayed {
			t.Fatalf("eligible claim: %+v %v %+v", g, replayed, ue)
		}
		if again, replayed, _ := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v2", nil); !replayed || again.Code != g.Code {
			t.Fatalf("replayed claim: %+v %v", again, replayed)
		}
		if _, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v2", map[string]string{"x": "y"}); ue.Code != "CONFLICT" {
			t.Fatalf("same key, other claim: %+v", ue)
		}
		if _, _, ue := a.claim(a.token(auth.RoleMember, "bob"), "alice", "videovip", "VIP_YEAR", "v3", nil); ue.Code != "NOT_FOUND" {
			t.Fatalf("bob claiming for alice: %+v", ue)
		}
		var rv struct {
			RevokePartnerBenefit struct {
				Grant      *grantView
				UserErrors []userError
			}
		}
		a.must(admin, `mutation($g: ID!) { revokePartnerBenefit(input: {grant: $g, reason: "test revoke"}) { grant { status detail } userErrors { code } } }`,
			map[string]any{"g": g.ID}, &rv)
		if rv.RevokePartnerBenefit.Grant == nil || rv.RevokePartnerBenefit.Grant.Status != "REVOKED" {
			t.Fatalf("revoke: %+v", rv)
		}

		// cobrandcard: a card number is refused; a token and last four link the card.
		if _, _, ue := a.claim(alice, "alice", "cobrandcard", "CARD_LINK", "card0", map[string]string{"token": "4111111111111111", "last4": "1111"}); ue.Code != "FAILED_PRECONDITION" {
			t.Fatalf("card number accepted: %+v", ue)
		}
		if g, _, ue := a.claim(alice, "alice", "cobrandcard", "CARD_LINK", "card1", map[string]string{"token": "tok_9f8e7d6c", "last4": "4242"}); ue.Code != "" || g.Code != "•••• 4242" {
			t.Fatalf("link: %+v %+v", g, ue)
		}
		var fund struct {
			FundPartnerBudget struct {
				Funded     *int
				UserErrors []userError
			}
		}
		a.must(admin, `mutation { fundPartnerBudget(input: {partner: "cobrandcard", points: 200, reason: "bank budget", idempotencyKey: "f1"}) { funded userErrors { code } } }`, nil, &fund)
		if fund.FundPartnerBudget.Funded == nil || *fund.FundPartnerBudget.Funded != 200 {
			t.Fatalf("fund: %+v", fund)
		}
		report := func(token, partner, key string, cents int) (int, string) {
			var out struct {
				ReportPartnerActivity struct {
					PointsAwarded *int
					UserErrors    []userError
				}
			}
			a.must(token, `mutation($p: String!, $k: String!, $c: Int!) { reportPartnerActivity(input: {partner: $p, externalId: "alice", kind: "CARD_SPEND", amountCents: $c, idempotencyKey: $k}) {
				pointsAwarded userErrors { code message } } }`, map[string]any{"p": partner, "k": key, "c": cents}, &out)
			if len(out.ReportPartnerActivity.UserErrors) > 0 {
				return 0, out.ReportPartnerActivity.UserErrors[0].Code
			}
			return *out.ReportPartnerActivity.PointsAwarded, ""
		}
		bank := a.token(auth.RolePartner, "cobrandcard")
		if n, code := report(bank, "cobrandcard", "spend-1", 123400); n != 123 || code != "" {
			t.Fatalf("card spend: %d %s", n, code)
		}
		if n, code := report(bank, "cobrandcard", "spend-1", 123400); n != 123 || code != "" {
			t.Fatalf("resent report: %d %s", n, code)
		}
		if _, code := report(bank, "cobrandcard", "spend-2", 100000); code != "FAILED_PRECONDITION" {
			t.Fatalf("beyond the budget (77 left, 100 asked): %s", code)
		}
		if _, code := report(a.token(auth.RolePartner, "videovip"), "cobrandcard", "spend-3", 1000); code != "PERMISSION_DENIED" {
			t.Fatalf("another partner's token: %s", code)
		}
		card := 0
		for _, e := range a.points("alice").Entries.Edges {
			if e.Node.Funding == "PARTNER:cobrandcard" {
				card += e.Node.Amount
			}
		}
		if card != 123 {
			t.Fatalf("card points in the ledger: %d", card)
		}

		// pointsexchange: 1,000 miles at 80 per 100 from the exchange's budget.
		a.must(admin, `mutation { fundPartnerBudget(input: {partner: "pointsexchange", points: 10000, reason: "exchange budget", idempotencyKey: "f2"}) { funded userErrors { code } } }`, nil, &fund)
		if g, _, ue := a.claim(alice, "alice", "pointsexchange", "AIRLINE_MILES", "x1", map[string]string{"amount": "1000"}); ue.Code != "" || g.Code != "800 points" {
			t.Fatalf("exchange: %+v %+v", g, ue)
		}

		// Switches: a disabled partner is DISABLED and grants nothing; enabled, it runs again.
		var sw struct {
			DisablePartner struct{ Partner struct{ Status string } }
			EnablePartner  struct{ Partner struct{ Status string } }
		}
		a.must(admin, `mutation { disablePartner(input: {partner: "videovip"}) { partner { status } } }`, nil, &sw)
		if sw.DisablePartner.Partner.Status != "DISABLED" {
			t.Fatalf("disabled: %+v", sw)
		}
		if _, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v9", nil); ue.Code != "UNAVAILABLE" {
			t.Fatalf("claim from a disabled partner: %+v", ue)
		}
		a.must(admin, `mutation { enablePartner(input: {partner: "videovip"}) { partner { status } } }`, nil, &sw)
		if sw.EnablePartner.Partner.Status != "RUNNING" {
			t.Fatalf("enabled: %+v", sw)
		}
		if g, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v9", nil); ue.Code != "" || g.Status != "GRANTED" {
			t.Fatalf("the pending claim after enabling: %+v %+v", g, ue)
		}
		// The partners' state and calls reach /metrics.
		resp, err := http.Get(a.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`membergraph_partner_status{partner="videovip",status="RUNNING"} 1`,
			`membergraph_partner_calls_total{outcome="ok",partner="cobrandcard"}`,
			`membergraph_partner_calls_total{outcome="unavailable",partner="videovip"} 1`,
			`membergraph_partner_restarts_total{partner="videovip"} 1`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// TestClaimSurvivesKill: kill -9 of the plugin during a claim fails the claim with
// UNAVAILABLE within its deadline, the partner runs again within a second, and the retried
// claim with the same key is granted once.
func TestClaimSurvivesKill(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, mgr, svc := newPartnerAPI(t, db)
		a.register("alice", nil)
		alice := a.token(auth.RoleMember, "alice")
		pid := mgr.PID("slowpoke")
		type result struct {
			ue   userError
			took time.Duration
		}
		done := make(chan result, 1)
		go func() {
			began := time.Now()
			_, _, ue := a.claim(alice, "alice", "slowpoke", "SLOW", "slow-1", nil)
			done <- result{ue, time.Since(began)}
		}()
		time.Sleep(150 * time.Millisecond)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.ue.Code != "UNAVAILABLE" || r.took > 1500*time.Millisecond {
			t.Fatalf("claim during kill: %+v after %s", r.ue, r.took)
		}
		waitRestarted(t, mgr, "slowpoke", pid)
		// The claim is PENDING; the reconciler finishes it with the plugin key it had.
		for try := 0; ; try++ {
			n, err := svc.Reconcile(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if try == 3 {
				info, _ := mgr.Info("slowpoke")
				t.Fatalf("the reconciler did not finish the grant; partner %+v", info)
			}
			time.Sleep(300 * time.Millisecond)
		}
		g, replayed, ue := a.claim(alice, "alice", "slowpoke", "SLOW", "slow-1", nil)
		if ue.Code != "" || g.Status != "GRANTED" || !replayed || g.Code == "" {
			t.Fatalf("retried claim: %+v %v %+v", g, replayed, ue)
		}
		// A claim that fails mid-way is also finished by its own retry.
		pid = mgr.PID("slowpoke")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if _, _, ue := a.claim(alice, "alice", "slowpoke", "SLOW", "slow-2", nil); ue.Code != "UNAVAILABLE" {
			t.Fatalf("claim right after a kill: %+v", ue)
		}
		waitRestarted(t, mgr, "slowpoke", pid)
		// A client retries on UNAVAILABLE; once the partner runs, the retry is granted.
		var g2 grantView
		for try := 0; ; try++ {
			var ue userError
			if g2, _, ue = a.claim(alice, "alice", "slowpoke", "SLOW", "slow-2", nil); ue.Code == "" {
				break
			}
			if ue.Code != "UNAVAILABLE" || try == 3 {
				info, _ := mgr.Info("slowpoke")
				t.Fatalf("retried claim: %+v %+v; partner %+v", g2, ue, info)
			}
			time.Sleep(300 * time.Millisecond)
		}
		if g2.Status != "GRANTED" {
			t.Fatalf("retried claim: %+v", g2)
		}
		n, err := db.Client.PartnerGrant.Query().Where(partnergrant.IdempotencyKeyIn("slow-1", "slow-2")).Count(auth.SystemContext(context.Background(), 1))
		if err != nil || n != 2 {
			t.Fatalf("%d grant rows for two claims, %v", n, err)
		}
	})
}

// waitRestarted waits for the partner to run again in another process than pid: at most a
// second after the kill.
func waitRestarted(t *testing.T, mgr *host.Manager, key string, pid int) {
	t.Helper()
	killed := time.Now()
	for {
		if info, _ := mgr.Info(key); info.Status == host.Running && mgr.PID(key) != pid && mgr.PID(key) != 0 {
			return
		}
		if time.Since(killed) > time.Second {
			t.Fatalf("%s not running again within 1 s", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPartnerAuthorization: the partner operations by role (without plugins: the roles are
// checked before any partner is asked).
func TestPartnerAuthorization(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		ops := []string{
			`{ partners { key } }`,
			`mutation { claimPartnerBenefit(input: {externalId: "alice", partner: "videovip", benefit: "VIP_YEAR", idempotencyKey: "k"}) { userErrors { code } } }`,
			`mutation { revokePartnerBenefit(input: {grant: "1", reason: "why not"}) { userErrors { code } } }`,
			`mutation { configurePartner(input: {partner: "videovip", config: []}) { userErrors { code } } }`,
			`mutation { fundPartnerBudget(input: {partner: "videovip", points: 1, reason: "budget", idempotencyKey: "f"}) { userErrors { code } } }`,
			`mutation { reportPartnerActivity(input: {partner: "videovip", externalId: "alice", kind: "X", amountCents: 1, idempotencyKey: "r"}) { userErrors { code } } }`,
			`mutation { disablePartner(input: {partner: "videovip"}) { userErrors { code } } }`,
			`mutation { enablePartner(input: {partner: "videovip"}) { userErrors { code } } }`,
		}
		const F = "FORBIDDEN"
		a.checkRoles(ops, map[auth.Role][]string{
			auth.RoleAdmin:   {"", "", "", "", "", "", "", ""},
			auth.RoleService: {"", "", F, F, F, F, F, F},
			auth.RoleMember:  {"", "", F, F, F, F, F, F},
			auth.RoleStore:   {"", F, F, F, F, F, F, F},
			auth.RolePartner: {"", F, F, F, F, "", F, F},
		})
	})
}

// TestPartnersWithoutPlugins: a server started without the plugin directory still answers
// for the grants it has: replays as they were, new claims NOT_FOUND, revokes UNAVAILABLE.
func TestPartnersWithoutPlugins(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _, _ := newPartnerAPI(t, db)
		a.register("alice", nil)
		admin, alice := a.token(auth.RoleAdmin, "ops"), a.token(auth.RoleMember, "alice")
		a.must(admin, `mutation { configurePartner(input: {partner: "videovip", config: [{key: "eligible_members", value: "alice"}]}) { userErrors { code } } }`, nil, &struct{}{})
		g, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "v1", nil)
		if ue.Code != "" {
			t.Fatal(ue)
		}
		b := newAPI(t, db) // the same database, no plugins
		if again, replayed, ue := b.claim(alice, "alice", "videovip", "VIP_YEAR", "v1", nil); ue.Code != "" || !replayed || again.Code != g.Code {
			t.Fatalf("replay without plugins: %+v %v %+v", again, replayed, ue)
		}
		if _, _, ue := b.claim(alice, "alice", "videovip", "VIP_YEAR", "v2", nil); ue.Code != "NOT_FOUND" {
			t.Fatalf("new claim without plugins: %+v", ue)
		}
		var rv struct {
			RevokePartnerBenefit struct{ UserErrors []userError }
		}
		b.must(admin, `mutation($g: ID!) { revokePartnerBenefit(input: {grant: $g, reason: "no plugins here"}) { userErrors { code } } }`,
			map[string]any{"g": g.ID}, &rv)
		if len(rv.RevokePartnerBenefit.UserErrors) != 1 || rv.RevokePartnerBenefit.UserErrors[0].Code != "UNAVAILABLE" {
			t.Fatalf("revoke without plugins: %+v", rv)
		}
	})
}

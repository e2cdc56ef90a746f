package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/ent/plusrequest"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

type plusAllowanceView struct {
	Plans            []string
	MonthlyCap       int
	GrantedThisMonth int
}

type partnerSettingsView struct {
	Config []struct{ Key, Value string }
	Plus   plusAllowanceView
}

// configurePartner runs configurePartner with input and returns the settings and the errors.
func (a *api) configurePartner(input map[string]any) (partnerSettingsView, []userError) {
	a.t.Helper()
	var out struct {
		ConfigurePartner struct {
			Partner *struct {
				Settings partnerSettingsView
			}
			UserErrors []userError
		}
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `mutation($in: ConfigurePartnerInput!) { configurePartner(input: $in) {
		partner { settings { config { key value } plus { plans monthlyCap grantedThisMonth } } } userErrors { field message code } } }`,
		map[string]any{"in": input}, &out)
	if out.ConfigurePartner.Partner == nil {
		return partnerSettingsView{}, out.ConfigurePartner.UserErrors
	}
	return out.ConfigurePartner.Partner.Settings, out.ConfigurePartner.UserErrors
}

// TestPartnerPlusSettings: configurePartner's plus settings are kept beside the plugin's
// configuration, each replaced only when given, never shown to the plugin as its own
// configuration, and malformed ones are refused naming the field.
func TestPartnerPlusSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _, svc := newPartnerAPI(t, db)
		st, ue := a.configurePartner(map[string]any{"partner": "cobrandcard", "config": []map[string]string{{"key": "cents_per_point", "value": "500"}}})
		if len(ue) != 0 || len(st.Plus.Plans) != 0 || st.Plus.MonthlyCap != 0 {
			t.Fatalf("a partner is allowed no PLUS until an admin says so: %+v %+v", st, ue)
		}
		st, ue = a.configurePartner(map[string]any{"partner": "cobrandcard", "plus": map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": 2}})
		if len(ue) != 0 || len(st.Config) != 1 || st.Config[0].Value != "500" || len(st.Plus.Plans) != 1 || st.Plus.Plans[0] != "ANNUAL" || st.Plus.MonthlyCap != 2 {
			t.Fatalf("plus given, config kept: %+v %+v", st, ue)
		}
		st, ue = a.configurePartner(map[string]any{"partner": "cobrandcard", "config": []map[string]string{}})
		if len(ue) != 0 || len(st.Config) != 0 || st.Plus.MonthlyCap != 2 {
			t.Fatalf("config replaced, plus kept: %+v %+v", st, ue)
		}
		// The plugin gets its own settings only.
		if _, cfg := svc.Settings("cobrandcard"); len(cfg) != 0 {
			t.Fatalf("the plugin is handed %v", cfg)
		}
		for _, c := range []struct {
			plus  map[string]any
			field string
		}{
			{map[string]any{"plans": []string{"annual"}, "monthlyCap": 1}, "input.plus.plans.0"},
			{map[string]any{"plans": []string{"ANNUAL", "ANNUAL"}, "monthlyCap": 1}, "input.plus.plans.1"},
			{map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": -1}, "input.plus.monthlyCap"},
			{map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": 1_000_001}, "input.plus.monthlyCap"},
		} {
			if _, ue := a.configurePartner(map[string]any{"partner": "cobrandcard", "plus": c.plus}); len(ue) != 1 || ue[0].Code != "INVALID_ARGUMENT" || strings.Join(ue[0].Field, ".") != c.field {
				t.Errorf("plus %v: %+v, want INVALID_ARGUMENT on %s", c.plus, ue, c.field)
			}
		}
		if _, ue := a.configurePartner(map[string]any{"partner": "cobrandcard", "config": []map[string]string{{"key": "membergraph.plus_monthly_cap", "value": "9"}}}); len(ue) != 1 || ue[0].Code != "INVALID_ARGUMENT" {
			t.Errorf("the platform's keys through config: %+v", ue)
		}
		if got := svc.PlusAllowance("cobrandcard"); got.MonthlyCap != 2 {
			t.Fatalf("a refused change changed the allowance: %+v", got)
		}
		st, ue = a.configurePartner(map[string]any{"partner": "cobrandcard", "plus": map[string]any{"plans": []string{}, "monthlyCap": 0}})
		if len(ue) != 0 || len(st.Plus.Plans) != 0 || st.Plus.MonthlyCap != 0 {
			t.Fatalf("allowance withdrawn: %+v %+v", st, ue)
		}
	})
}

// tallyRunner is the real host, counting the Grant and Revoke calls that reached a
// plugin and succeeded, by the plugin's grant key and grant id: what "exactly once" is
// measured by.
type tallyRunner struct {
	*host.Manager
	mu      sync.Mutex
	grants  map[string]int // plugin idempotency key → successful Grant calls that created or replayed
	revokes map[string]int // plugin grant id → successful Revoke calls
}

func (r *tallyRunner) Call(ctx context.Context, key string, fn func(ctx context.Context, c *sdk.Client) error) error {
	return r.Manager.Call(ctx, key, func(ctx context.Context, c *sdk.Client) error {
		return fn(ctx, &sdk.Client{PartnerClient: tallyClient{c.PartnerClient, r}})
	})
}

func (r *tallyRunner) revokesOf(grantID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revokes[grantID]
}

func (r *tallyRunner) grantsOf(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grants[key]
}

type tallyClient struct {
	partnerv1.PartnerClient
	r *tallyRunner
}

func (c tallyClient) Grant(ctx context.Context, in *partnerv1.GrantRequest, opts ...grpc.CallOption) (*partnerv1.GrantResponse, error) {
	res, err := c.PartnerClient.Grant(ctx, in, opts...)
	if err == nil {
		c.r.mu.Lock()
		c.r.grants[in.IdempotencyKey]++
		c.r.mu.Unlock()
	}
	return res, err
}

func (c tallyClient) Revoke(ctx context.Context, in *partnerv1.RevokeRequest, opts ...grpc.CallOption) (*partnerv1.RevokeResponse, error) {
	res, err := c.PartnerClient.Revoke(ctx, in, opts...)
	if err == nil {
		c.r.mu.Lock()
		c.r.revokes[in.GrantId]++
		c.r.mu.Unlock()
	}
	return res, err
}

// plusPartners is an API server whose partners run as real plugin processes, wired to the
// PLUS service as serve wires them: GrantPlus served, the video VIP bundled with every term.
type plusPartners struct {
	*api
	dir    string
	runner *tallyRunner
	svc    *partner.Service
	plus   *plus.Service
	pid    int
}

func newPlusPartners(t *testing.T, db *store.DB) *plusPartners {
	p := &plusPartners{}
	p.api = newAPI(t, db, func(cfg *graph.ServerConfig) {
		p.pid, _ = cfg.Programs.IDByKey(context.Background(), "jd")
		p.svc = partner.NewService(db.Client, cfg.Ledger, p.pid, slog.New(slog.NewTextHandler(io.Discard, nil)))
		p.dir = builtPlugins(t)
		// Quick restarts, so a test can take a plugin down and bring it back.
		m, err := host.Start(context.Background(), host.Config{Dir: p.dir, CallTimeout: 2 * time.Second, HealthEvery: 50 * time.Millisecond,
			MaxBackoff: 100 * time.Millisecond, Host: p.svc.Callbacks, Settings: p.svc.Settings,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		p.runner = &tallyRunner{Manager: m, grants: map[string]int{}, revokes: map[string]int{}}
		p.svc.SetRunner(p.runner)
		if cfg.Plus == nil {
			cfg.Plus = plus.NewService(db.Client, cfg.Ledger)
		}
		p.plus = cfg.Plus
		p.svc.SetPlus(p.plus)
		p.plus.AddListener(p.svc.TermListener())
		cfg.Partners = p.svc
	})
	return p
}

func (p *plusPartners) sys() context.Context { return auth.SystemContext(context.Background(), p.pid) }

// terms are a member's terms in the order they run.
func (p *plusPartners) terms(ext string) []*ent.PlusTerm {
	p.t.Helper()
	ts, err := p.db.Client.PlusTerm.Query().Where(plusterm.HasMemberWith(member.ExternalID(ext))).
		Order(ent.Asc(plusterm.FieldStartAt), ent.Asc(plusterm.FieldID)).All(p.sys())
	if err != nil {
		p.t.Fatal(err)
	}
	return ts
}

func (p *plusPartners) memberID(ext string) int {
	p.t.Helper()
	id, err := p.db.Client.Member.Query().Where(member.ExternalID(ext)).OnlyID(p.sys())
	if err != nil {
		p.t.Fatal(err)
	}
	return id
}

// plusRequests counts what the PLUS service recorded for a member (its refusals included).
func (p *plusPartners) plusRequests(ext string) int {
	p.t.Helper()
	n, err := p.db.Client.PlusRequest.Query().Where(plusrequest.MemberID(p.memberID(ext))).Count(p.sys())
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// TestPartnerPlusChannels: the real cobrandcard and pointsexchange processes grant PLUS
// terms through GrantPlus — once per key, stacked, refused beyond the partner's monthly cap
// and for a partner or plan not allowed, writing nothing when refused — and the card renews
// its term while it stays linked, not after.
func TestPartnerPlusChannels(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newPlusPartners(t, db)
		for _, m := range []string{"alice", "bob", "carol"} {
			a.register(m, nil)
		}
		alice, bob := a.token(auth.RoleMember, "alice"), a.token(auth.RoleMember, "bob")
		// The test clock: 2026-11-22 08:00 UTC, 16:00 in the programme's Asia/Shanghai. An
		// annual term ends at the same local time a year later.
		y := func(year int) time.Time { return time.Date(year, 11, 22, 8, 0, 0, 0, time.UTC) }

		link, _, ue := a.claim(alice, "alice", "cobrandcard", "CARD_LINK", "link-a", map[string]string{"token": "tok_alice_01", "last4": "4242"})
		if ue.Code != "" || link.Status != "GRANTED" {
			t.Fatalf("link: %+v %+v", link, ue)
		}
		// Not allowed yet: refused, and the PLUS service heard nothing.
		if g, _, ue := a.claim(alice, "alice", "cobrandcard", "CARD_PLUS", "cp-1", nil); ue.Code != "FAILED_PRECONDITION" || !strings.Contains(ue.Message, "NOT_ALLOWED") {
			t.Fatalf("a partner not allowed: %+v %+v", g, ue)
		}
		if n, r := len(a.terms("alice")), a.plusRequests("alice"); n != 0 || r != 0 {
			t.Fatalf("a refusal wrote %d terms, %d requests", n, r)
		}

		if _, ue := a.configurePartner(map[string]any{"partner": "cobrandcard", "plus": map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": 1}}); len(ue) != 0 {
			t.Fatal(ue)
		}
		g, _, ue := a.claim(alice, "alice", "cobrandcard", "CARD_PLUS", "cp-2", nil)
		if ue.Code != "" || g.Status != "GRANTED" || g.Code != "PLUS while card •••• 4242 stays linked" {
			t.Fatalf("card PLUS: %+v %+v", g, ue)
		}
		ts := a.terms("alice")
		if len(ts) != 1 || ts[0].Source != "PARTNER:cobrandcard" || ts[0].Plan != "ANNUAL" || !ts[0].StartAt.Equal(y(2026)) || !ts[0].EndAt.Equal(y(2027)) {
			t.Fatalf("the card's term: %+v", ts)
		}
		if again, replayed, ue := a.claim(alice, "alice", "cobrandcard", "CARD_PLUS", "cp-2", nil); ue.Code != "" || !replayed || again.Code != g.Code || len(a.terms("alice")) != 1 {
			t.Fatalf("replayed claim: %+v %v %+v, %d terms", again, replayed, ue, len(a.terms("alice")))
		}

		// Beyond the monthly cap of 1: bob's card is refused, nothing written for him.
		if _, _, ue := a.claim(bob, "bob", "cobrandcard", "CARD_LINK", "link-b", map[string]string{"token": "tok_bob_0001", "last4": "1111"}); ue.Code != "" {
			t.Fatal(ue)
		}
		if _, _, ue := a.claim(bob, "bob", "cobrandcard", "CARD_PLUS", "cp-b", nil); ue.Code != "FAILED_PRECONDITION" || !strings.Contains(ue.Message, "MONTHLY_CAP") {
			t.Fatalf("beyond the cap: %+v", ue)
		}
		if n, r := len(a.terms("bob")), a.plusRequests("bob"); n != 0 || r != 0 {
			t.Fatalf("a refusal beyond the cap wrote %d terms, %d requests", n, r)
		}

		// pointsexchange sells PLUS for bank points once allowed; the term stacks onto alice's.
		if _, _, ue := a.claim(alice, "alice", "pointsexchange", "PLUS", "px-1", map[string]string{"pay": "BANK_POINTS"}); ue.Code != "FAILED_PRECONDITION" || !strings.Contains(ue.Message, "NOT_ALLOWED") {
			t.Fatalf("the exchange not allowed: %+v", ue)
		}
		if _, ue := a.configurePartner(map[string]any{"partner": "pointsexchange", "plus": map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": 2}}); len(ue) != 0 {
			t.Fatal(ue)
		}
		if g, _, ue := a.claim(alice, "alice", "pointsexchange", "PLUS", "px-2", map[string]string{"pay": "BANK_POINTS"}); ue.Code != "" || g.Code != "PLUS ANNUAL until 2028-11-22" || !strings.HasPrefix(g.Detail, "30000 BANK_POINTS paid for PLUS") {
			t.Fatalf("PLUS for bank points: %+v %+v", g, ue)
		}
		if ts := a.terms("alice"); len(ts) != 2 || ts[1].Source != "PARTNER:pointsexchange" || !ts[1].StartAt.Equal(y(2027)) || !ts[1].EndAt.Equal(y(2028)) {
			t.Fatalf("the stacked term: %+v", ts)
		}

		// The callback itself: once per key, the same key for another request ALREADY_EXISTS,
		// a plan not allowed refused, a member the partner has nothing with unknown.
		cb := a.svc.Callbacks("pointsexchange")
		req := &partnerv1.GrantPlusRequest{ExternalId: "alice", Plan: "ANNUAL", IdempotencyKey: "direct-1", Reference: "order-9"}
		first, err := cb.GrantPlus(context.Background(), req)
		if err != nil || first.Term == nil || first.Replayed || first.Term.StartsAtUnix != y(2028).Unix() || first.Term.EndsAtUnix != y(2029).Unix() {
			t.Fatalf("direct grant: %+v %v", first, err)
		}
		// The cap of 2 is used up now (px-2, direct-1); a replay still answers the first term.
		again, err := cb.GrantPlus(context.Background(), req)
		if err != nil || !again.Replayed || again.Term.GetId() != first.Term.Id {
			t.Fatalf("replay at the cap: %+v %v", again, err)
		}
		if _, err := cb.GrantPlus(context.Background(), &partnerv1.GrantPlusRequest{ExternalId: "alice", Plan: "ANNUAL", IdempotencyKey: "direct-1", Reference: "order-10"}); status.Code(err) != codes.AlreadyExists {
			t.Fatalf("the key for another request: %v", err)
		}
		if r, err := cb.GrantPlus(context.Background(), &partnerv1.GrantPlusRequest{ExternalId: "alice", Plan: "ANNUAL", IdempotencyKey: "direct-2"}); err != nil || r.RefusalCode != "MONTHLY_CAP" {
			t.Fatalf("beyond the cap: %+v %v", r, err)
		}
		if r, err := cb.GrantPlus(context.Background(), &partnerv1.GrantPlusRequest{ExternalId: "alice", Plan: "TRIAL", IdempotencyKey: "direct-3"}); err != nil || r.RefusalCode != "NOT_ALLOWED" {
			t.Fatalf("a plan not allowed: %+v %v", r, err)
		}
		if _, err := cb.GrantPlus(context.Background(), &partnerv1.GrantPlusRequest{ExternalId: "carol", Plan: "ANNUAL", IdempotencyKey: "direct-4"}); status.Code(err) != codes.NotFound {
			t.Fatalf("a member the partner has no grant with: %v", err)
		}
		if n := len(a.terms("alice")); n != 3 {
			t.Fatalf("alice has %d terms, want 3", n)
		}
		st, _ := a.configurePartner(map[string]any{"partner": "pointsexchange"})
		if st.Plus.GrantedThisMonth != 2 {
			t.Fatalf("granted this month: %+v", st.Plus)
		}

		// Renewal while linked: the card's term (to 2027-11-22) is within 400 days of the
		// plugin's clock, so it grants the next, stacked at alice's end (2029-11-22); that one
		// is years away, so no more follow.
		if _, ue := a.configurePartner(map[string]any{"partner": "cobrandcard", "plus": map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": 10},
			"config": []map[string]string{{"key": "renew_before_days", "value": "400"}, {"key": "renew_check_seconds", "value": "1"}}}); len(ue) != 0 {
			t.Fatal(ue)
		}
		waitFor(t, 5*time.Second, "the card's renewal", func() bool { return len(a.terms("alice")) == 4 })
		ts = a.terms("alice")
		if ts[3].Source != "PARTNER:cobrandcard" || !ts[3].StartAt.Equal(y(2029)) || !ts[3].EndAt.Equal(y(2030)) {
			t.Fatalf("the renewed term: %+v", ts[3])
		}
		// Unlinking ends the renewals, not the membership.
		var rv struct {
			RevokePartnerBenefit struct{ Grant *grantView }
		}
		a.must(a.token(auth.RoleAdmin, "ops"), `mutation($g: ID!) { revokePartnerBenefit(input: {grant: $g, reason: "card unlinked"}) { grant { status } } }`,
			map[string]any{"g": link.ID}, &rv)
		if rv.RevokePartnerBenefit.Grant == nil || rv.RevokePartnerBenefit.Grant.Status != "REVOKED" {
			t.Fatalf("unlink: %+v", rv)
		}
		if _, ue := a.configurePartner(map[string]any{"partner": "cobrandcard",
			"config": []map[string]string{{"key": "renew_before_days", "value": "5000"}, {"key": "renew_check_seconds", "value": "1"}}}); len(ue) != 0 {
			t.Fatal(ue)
		}
		time.Sleep(2500 * time.Millisecond) // two of the plugin's renewal rounds
		if n := len(a.terms("alice")); n != 4 {
			t.Fatalf("an unlinked card renewed: %d terms", n)
		}
		if ok, err := a.plus.Active(a.sys(), a.memberID("alice"), a.clock.Now()); err != nil || !ok {
			t.Fatalf("after unlinking the term runs on: %v %v", ok, err)
		}
	})
}

// vip is the member's bundled video VIP grant of a term, as the database holds it.
func (p *plusPartners) vip(termID int) *ent.PartnerGrant {
	p.t.Helper()
	g, err := p.db.Client.PartnerGrant.Query().Where(partnergrant.IdempotencyKey(fmt.Sprintf("plus-term:%d:videovip", termID))).Only(p.sys())
	if err != nil {
		p.t.Fatalf("the video VIP of term %d: %v", termID, err)
	}
	return g
}

// memberGrants is what a MEMBER sees of its partner grants.
func (p *plusPartners) memberGrants(ext string) []grantView {
	p.t.Helper()
	var out struct {
		Member struct {
			PartnerGrants struct {
				Edges []struct{ Node grantView }
			}
		}
	}
	p.must(p.token(auth.RoleMember, ext), `query($e: String!) { member(externalId: $e) { partnerGrants(first: 50) { edges { node { id partner benefit status code detail } } } } }`,
		map[string]any{"e": ext}, &out)
	var gs []grantView
	for _, e := range out.Member.PartnerGrants.Edges {
		gs = append(gs, e.Node)
	}
	return gs
}

// pluginState asks the videovip process itself what became of a grant.
func (p *plusPartners) pluginState(grantID string) partnerv1.StatusResponse_State {
	p.t.Helper()
	var st partnerv1.StatusResponse_State
	err := p.runner.Manager.Call(context.Background(), "videovip", func(ctx context.Context, c *sdk.Client) error {
		r, err := c.Status(ctx, &partnerv1.StatusRequest{GrantId: grantID})
		st = r.GetState()
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return st
}

// takeDown kills the videovip process and keeps it from starting again (its executable moved
// away) until the returned function brings it back.
func (p *plusPartners) takeDown() (bringBack func()) {
	p.t.Helper()
	file := filepath.Join(p.dir, "videovip")
	if err := os.Rename(file, file+".away"); err != nil {
		p.t.Fatal(err)
	}
	if err := syscall.Kill(p.runner.PID("videovip"), syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	waitFor(p.t.(*testing.T), 3*time.Second, "videovip down", func() bool {
		info, _ := p.runner.Info("videovip")
		return info.Status != host.Running
	})
	return func() {
		if err := os.Rename(file+".away", file); err != nil {
			p.t.Fatal(err)
		}
		waitFor(p.t.(*testing.T), 5*time.Second, "videovip back", func() bool {
			info, _ := p.runner.Info("videovip")
			return info.Status == host.Running
		})
	}
}

// TestBundledVideoVIP: with the real videovip process, every PLUS term that starts gets the
// video VIP, keyed by the term, shown to the member with its code; a cancelled term's is
// revoked through the plugin. With the plugin down, a cancel revokes at once here and the
// reconciler tells the plugin once it is back, exactly once; a term that starts while it is
// down gets its VIP from the reconciler, once; a stacked term cancelled before its VIP was
// granted never gets one.
func TestBundledVideoVIP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newPlusPartners(t, db)
		a.register("alice", nil) // Registered tier: the VIP comes with PLUS alone
		ctx, id := a.sys(), a.memberID("alice")
		grant := func(plan, source, key string) *ent.PlusTerm {
			t.Helper()
			res, err := a.plus.Grant(ctx, plus.GrantRequest{MemberID: id, Plan: plan, Source: source, IdempotencyKey: key})
			if err != nil {
				t.Fatalf("grant %s: %v", key, err)
			}
			return res.Term
		}
		cancel := func(key string, refund bool) {
			t.Helper()
			if _, err := a.plus.Cancel(ctx, plus.CancelRequest{MemberID: id, Refund: refund, Reason: "asked to", IdempotencyKey: key}); err != nil {
				t.Fatalf("cancel %s: %v", key, err)
			}
		}
		reconcile := func() int {
			t.Helper()
			n, err := a.svc.Reconcile(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// A trial bundles nothing: the year of VIP comes with the ways in, not with 30 free days.
		trial := grant("TRIAL", "TRIAL", "trial-1")
		if n, err := db.Client.PartnerGrant.Query().Count(ctx); err != nil || n != 0 {
			t.Fatalf("the trial left %d partner grants (%v), want none", n, err)
		}
		if tr, err := db.Client.PlusTerm.Get(ctx, trial.ID); err != nil || len(tr.Bundled) != 0 {
			t.Fatalf("the trial names a bundle: %v (%v)", tr.Bundled, err)
		}
		cancel("cancel-trial", false)

		// Granted on start; the member sees the code.
		first := grant("ANNUAL", "CODE", "code-0")
		g1 := a.vip(first.ID)
		if g1.Status != partnergrant.StatusGRANTED || !strings.HasPrefix(g1.Code, "VIP-") || len(g1.Code) != 23 {
			t.Fatalf("the first term's VIP: %+v", g1)
		}
		if gs := a.memberGrants("alice"); len(gs) != 1 || gs[0].Partner != "videovip" || gs[0].Benefit != "VIP_YEAR" || gs[0].Code != g1.Code {
			t.Fatalf("partnerGrants: %+v", gs)
		}
		if tr, _ := db.Client.PlusTerm.Get(ctx, first.ID); tr.Bundled["videovip"] != g1.IdempotencyKey {
			t.Fatalf("the term does not name its bundle: %v", tr.Bundled)
		}
		// Revoked on cancel, through the plugin.
		cancel("cancel-1", false)
		if g := a.vip(first.ID); g.Status != partnergrant.StatusREVOKED || !strings.HasPrefix(g.Detail, "Revoked: ") {
			t.Fatalf("after the cancel: %+v", g)
		}
		if st := a.pluginState(g1.GrantID); st != partnerv1.StatusResponse_STATE_REVOKED || a.runner.revokesOf(g1.GrantID) != 1 {
			t.Fatalf("the plugin has the VIP %v after %d revokes", st, a.runner.revokesOf(g1.GrantID))
		}

		// Down while a term is cancelled: REVOKED here at once, the plugin told later, once.
		code := grant("ANNUAL", "CODE", "code-1")
		g2 := a.vip(code.ID)
		if g2.Status != partnergrant.StatusGRANTED {
			t.Fatalf("the code term's VIP: %+v", g2)
		}
		bringBack := a.takeDown()
		stacked := grant("ANNUAL", "CODE", "code-2") // starts after code-1: its VIP waits for the plugin
		if g := a.vip(stacked.ID); g.Status != partnergrant.StatusPENDING {
			t.Fatalf("a VIP while the plugin is down: %+v", g)
		}
		cancel("cancel-2", true) // ends code-1 now and cancels code-2 before it starts
		if g := a.vip(code.ID); g.Status != partnergrant.StatusREVOKED || !strings.HasPrefix(g.Detail, "Revoke pending: ") {
			t.Fatalf("revoked while the plugin is down: %+v", g)
		}
		if g := a.vip(stacked.ID); g.Status != partnergrant.StatusREVOKED {
			t.Fatalf("the pending VIP of a cancelled term: %+v", g)
		}
		if n := reconcile(); n != 0 {
			t.Fatalf("the reconciler finished %d with the plugin down", n)
		}
		bringBack()
		if n := reconcile(); n != 1 {
			t.Fatalf("the reconciler finished %d, want the one revoke", n)
		}
		if g := a.vip(code.ID); !strings.HasPrefix(g.Detail, "Revoked: ") {
			t.Fatalf("after the reconciler: %+v", g)
		}
		if st := a.pluginState(g2.GrantID); st != partnerv1.StatusResponse_STATE_REVOKED {
			t.Fatalf("the plugin still has the VIP: %v", st)
		}
		if n := reconcile(); n != 0 || a.runner.revokesOf(g2.GrantID) != 1 {
			t.Fatalf("a second round finished %d; %d revokes reached the plugin", n, a.runner.revokesOf(g2.GrantID))
		}
		if n := a.runner.grantsOf(fmt.Sprintf("membergraph-%d", a.vip(stacked.ID).ID)); n != 0 {
			t.Fatalf("the cancelled stacked term's VIP was granted %d times", n)
		}

		// Down while a term starts: the reconciler grants it once the plugin is back, once.
		// (Bob's: alice's chain is hers to sort out.)
		a.register("bob", nil)
		id = a.memberID("bob")
		bringBack = a.takeDown()
		late := grant("ANNUAL", "CODE", "code-3")
		if g := a.vip(late.ID); g.Status != partnergrant.StatusPENDING {
			t.Fatalf("a VIP while the plugin is down: %+v", g)
		}
		bringBack()
		if n := reconcile(); n != 1 {
			t.Fatalf("the reconciler finished %d, want the pending VIP", n)
		}
		g4 := a.vip(late.ID)
		if g4.Status != partnergrant.StatusGRANTED || !strings.HasPrefix(g4.Code, "VIP-") {
			t.Fatalf("the VIP after the plugin came back: %+v", g4)
		}
		grant("ANNUAL", "CODE", "code-3") // a replay starts nothing
		if n := reconcile(); n != 0 || a.runner.grantsOf(fmt.Sprintf("membergraph-%d", g4.ID)) != 1 {
			t.Fatalf("the late VIP reached the plugin %d times", a.runner.grantsOf(fmt.Sprintf("membergraph-%d", g4.ID)))
		}
		if gs := a.memberGrants("alice"); len(gs) != 3 {
			t.Fatalf("alice's partnerGrants: %+v", gs)
		}
		if gs := a.memberGrants("bob"); len(gs) != 1 || gs[0].Code != g4.Code || gs[0].Status != "GRANTED" {
			t.Fatalf("bob's partnerGrants: %+v", gs)
		}
	})
}

// TestPartnerPlusCapAcrossReplicas: two servers on one database, each with its own copy of
// the partner's plugin, race the month's last terms of a partner's cap: exactly the cap is
// granted, because the count and the term commit together under a lock on the partner's row.
func TestPartnerPlusCapAcrossReplicas(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newPlusPartners(t, db)
		// Six cardholders, so the racers do not queue on one member's lock.
		holders := []string{"m0", "m1", "m2", "m3", "m4", "m5"}
		for i, m := range holders {
			a.register(m, nil)
			tok := a.token(auth.RoleMember, m)
			if link, _, ue := a.claim(tok, m, "cobrandcard", "CARD_LINK", "link-"+m, map[string]string{"token": fmt.Sprintf("tok_holder_%02d", i), "last4": "4242"}); ue.Code != "" || link.Status != "GRANTED" {
				t.Fatalf("link %s: %+v %+v", m, link, ue)
			}
		}
		if _, ue := a.configurePartner(map[string]any{"partner": "cobrandcard", "plus": map[string]any{"plans": []string{"ANNUAL"}, "monthlyCap": 3}}); len(ue) != 0 {
			t.Fatal(ue)
		}
		// The second replica: its own partner and PLUS services over the same database.
		ledger := points.NewLedger(db.Client, db.Dialect, a.plus.Clock(), plus.NewChecker(db.Client))
		replica := partner.NewService(db.Client, ledger, a.pid, slog.New(slog.NewTextHandler(io.Discard, nil)))
		replica.SetPlus(plus.NewService(db.Client, ledger))
		servers := []*partner.Service{a.svc, replica}

		const racers = 12
		var wg sync.WaitGroup
		granted, refused := make(chan string, racers), make(chan string, racers)
		for i := range racers {
			wg.Go(func() {
				r, err := servers[i%2].Callbacks("cobrandcard").GrantPlus(context.Background(),
					&partnerv1.GrantPlusRequest{ExternalId: holders[i%len(holders)], Plan: "ANNUAL", IdempotencyKey: fmt.Sprintf("race-%d", i)})
				switch {
				case err != nil:
					t.Errorf("racer %d: %v", i, err)
				case r.Term != nil:
					granted <- r.Term.Id
				default:
					refused <- r.RefusalCode
				}
			})
		}
		wg.Wait()
		close(granted)
		close(refused)
		if len(granted) != 3 {
			t.Errorf("%d terms granted by the racers, want the cap of 3", len(granted))
		}
		for code := range refused {
			if code != "MONTHLY_CAP" {
				t.Errorf("a racer was refused %q, want MONTHLY_CAP", code)
			}
		}
		if n, err := db.Client.PlusTerm.Query().Count(a.sys()); err != nil || n != 3 {
			t.Errorf("%d terms stored (%v), want 3", n, err)
		}
	})
}

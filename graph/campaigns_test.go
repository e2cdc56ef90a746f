package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tag/cond"
)

const createCampaignMutation = `mutation($in: CreateCampaignInput!) { createCampaign(input: $in) {
	campaign { key name status segment trigger { kind timeOfDay weekday monthDay } action { kind points budget }
		frequencyCapHits frequencyCapDays budgetPoints spentPoints }
	userErrors { field message code } } }`
const dryRunCampaignMutation = `mutation($key: String!) { dryRunCampaign(input: {key: $key}) {
	cost { members skipped points costCents } userErrors { field message code } } }`
const campaignRunsQuery = `query($key: String!) { campaign(key: $key) { spentPoints status
	runs(first: 10) { edges { node { key finishedAt done skipped failed points
		results(first: 100) { edges { node { member status reason points } } } } } } } }`

type campaignResultView struct {
	Member, Status, Reason string
	Points                 int
}

type campaignRunView struct {
	Key                   string
	FinishedAt            *time.Time
	Done, Skipped, Failed int
	Points                int
	Results               struct {
		Edges []struct{ Node campaignResultView }
	}
}

type campaignView struct {
	SpentPoints int
	Status      string
	Runs        struct {
		Edges []struct{ Node campaignRunView }
	}
}

type campaignCost struct{ Members, Skipped, Points, CostCents int }

// campaignFixture is a server whose campaign service the test holds, to run the schedules
// as serve's job and `membergraph campaigns run` do, with chunks of 2 members so that every
// run spans several transactions.
type campaignFixture struct {
	*api
	svc   *campaign.Service
	admin string
	ctx   context.Context // an ADMIN of the programme, for the segment service
}

func newCampaignFixture(t *testing.T, db *store.DB) *campaignFixture {
	var svc *campaign.Service
	a := newAPI(t, db, func(c *graph.ServerConfig) {
		svc = campaign.NewService(db.Client, c.Ledger, segment.NewService(db.Client, c.Ledger.Clock()),
			campaign.SegmentsByKey(db.Client), campaign.Config{Chunk: 2})
		c.Campaigns = svc
		c.Plus = plus.NewService(db.Client, c.Ledger)
	})
	pid, err := program.NewService(db.Client).IDByKey(context.Background(), program.PresetKey)
	if err != nil {
		t.Fatal(err)
	}
	return &campaignFixture{api: a, svc: svc, admin: a.token(auth.RoleAdmin, "ops"),
		ctx: auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})}
}

// members registers app-1..app-n through the app and web-1..web-m on the web, and saves the
// segment "app" of the members registered through the app.
func (f *campaignFixture) members(n, m int) {
	f.t.Helper()
	for i := 1; i <= n; i++ {
		f.register(fmt.Sprintf("app-%d", i), map[string]any{"registrationChannel": "APP"})
	}
	for i := 1; i <= m; i++ {
		f.register(fmt.Sprintf("web-%d", i), map[string]any{"registrationChannel": "WEB"})
	}
	_, err := segment.NewService(f.db.Client, f.clock).Create(f.ctx, segment.Input{Key: "app", Name: "App members",
		Filter: cond.Node{Field: cond.RegistrationChannel, Values: []string{"APP"}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *campaignFixture) create(in map[string]any) []userError {
	f.t.Helper()
	var out struct {
		CreateCampaign struct{ UserErrors []userError }
	}
	f.must(f.admin, createCampaignMutation, map[string]any{"in": in}, &out)
	return out.CreateCampaign.UserErrors
}

func (f *campaignFixture) mustCreate(in map[string]any) {
	f.t.Helper()
	if ue := f.create(in); len(ue) > 0 {
		f.t.Fatalf("createCampaign: %+v", ue)
	}
}

func (f *campaignFixture) dryRun(key string) campaignCost {
	f.t.Helper()
	var out struct {
		DryRunCampaign struct {
			Cost       *campaignCost
			UserErrors []userError
		}
	}
	f.must(f.admin, dryRunCampaignMutation, map[string]any{"key": key}, &out)
	if out.DryRunCampaign.Cost == nil {
		f.t.Fatalf("dryRunCampaign %s: %+v", key, out.DryRunCampaign.UserErrors)
	}
	return *out.DryRunCampaign.Cost
}

// drain reads the event triggers to their end, as serve's consumer does continuously.
func (f *campaignFixture) drain() campaign.TriggerStats {
	f.t.Helper()
	st, err := f.svc.DrainTriggers(context.Background(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *campaignFixture) runDue() campaign.Stats {
	f.t.Helper()
	st, err := f.svc.RunDue(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *campaignFixture) campaign(key string) campaignView {
	f.t.Helper()
	var out struct{ Campaign *campaignView }
	f.must(f.admin, campaignRunsQuery, map[string]any{"key": key}, &out)
	if out.Campaign == nil {
		f.t.Fatalf("no campaign %s", key)
	}
	return *out.Campaign
}

func (f *campaignFixture) balance(externalID string) int {
	f.t.Helper()
	var out struct {
		Member struct{ Points struct{ Balance int } }
	}
	f.must(f.admin, `query($id: String!) { member(externalId: $id) { points { balance } } }`, map[string]any{"id": externalID}, &out)
	return out.Member.Points.Balance
}

func daily(key string, points, budget int) map[string]any {
	return map[string]any{"key": key, "name": "Daily " + key, "segment": "app",
		"trigger": map[string]any{"kind": "DAILY", "timeOfDay": "09:00"},
		"action":  map[string]any{"kind": "GRANT_POINTS", "points": points, "budget": "PLATFORM"}, "budgetPoints": budget}
}

// TestCampaignDailyRunsOncePerDay: a daily campaign run twice in one day hits nobody twice,
// and the next day's run hits everyone again; the dry run before each foretells it.
func TestCampaignDailyRunsOncePerDay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(5, 2) // 5 members in the segment "app", 2 outside it
		f.mustCreate(daily("welcome", 50, 100_000))
		// The clock reads 2026-11-22 08:00 UTC, 16:00 in Shanghai: past 09:00, so today's run is
		// due. 5 members × 50 points = 250 points, ¥2.50 at 100 points per ¥1 = 250 cents.
		want := campaignCost{Members: 5, Skipped: 0, Points: 250, CostCents: 250}
		if got := f.dryRun("welcome"); got != want {
			t.Fatalf("dry run = %+v, want %+v", got, want)
		}
		if st := f.runDue(); st.Runs != 1 || st.Done != 5 || st.Points != 250 {
			t.Fatalf("first run = %+v, want 1 run hitting 5 members for 250 points", st)
		}
		if st := f.runDue(); st.Runs != 0 {
			t.Fatalf("second run the same day = %+v, want none", st)
		}
		c := f.campaign("welcome")
		if len(c.Runs.Edges) != 1 || c.SpentPoints != 250 {
			t.Fatalf("after one day: %+v", c)
		}
		run := c.Runs.Edges[0].Node
		if run.Key != "2026-11-22" || run.FinishedAt == nil || run.Done != 5 || len(run.Results.Edges) != 5 {
			t.Fatalf("run = %+v", run)
		}
		for i, e := range run.Results.Edges { // by member id: registration order
			if want := (campaignResultView{Member: fmt.Sprintf("app-%d", i+1), Status: "DONE", Points: 50}); e.Node != want {
				t.Errorf("result %d = %+v, want %+v", i, e.Node, want)
			}
		}
		for i := 1; i <= 5; i++ {
			if b := f.balance(fmt.Sprintf("app-%d", i)); b != 50 {
				t.Errorf("app-%d balance %d, want 50", i, b)
			}
		}
		if b := f.balance("web-1"); b != 0 {
			t.Errorf("web-1, outside the segment, has %d points", b)
		}
		// 16:00 + 16:59 = 08:59 Shanghai the next day, before 09:00: not due; at 09:00 it is.
		f.clock.Advance(17*time.Hour - time.Minute)
		if st := f.runDue(); st.Runs != 0 {
			t.Fatalf("before 09:00 = %+v, want no run", st)
		}
		f.clock.Advance(time.Minute)
		if st := f.runDue(); st.Runs != 1 || st.Done != 5 {
			t.Fatalf("the next day = %+v, want 5 hit", st)
		}
		if b := f.balance("app-3"); b != 100 {
			t.Errorf("app-3 after two days: %d, want 100", b)
		}
	})
}

// TestCampaignFrequencyCapAndBudget: at most one hit per member in 7 days, and the budget
// cap is never exceeded; the dry run equals the run's count and cost each time.
func TestCampaignFrequencyCapAndBudget(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(3, 0)
		in := daily("capped", 40, 0)
		in["frequencyCap"] = map[string]any{"hits": 1, "days": 7}
		in["budgetPoints"] = 200 // 5 hits of 40
		f.mustCreate(in)
		check := func(day string, want campaignCost) {
			t.Helper()
			if got := f.dryRun("capped"); got != want {
				t.Fatalf("%s: dry run = %+v, want %+v", day, got, want)
			}
			st := f.runDue()
			if st.Done != want.Members || st.Skipped != want.Skipped || st.Points != int64(want.Points) {
				t.Fatalf("%s: run = %+v, dry run said %+v", day, st, want)
			}
		}
		// Day 1: all 3 hit, 120 of 200 spent.
		check("day 1", campaignCost{Members: 3, Points: 120, CostCents: 120})
		// Days 2–7: each member was hit within 7 days: all skipped by the cap.
		for d := 2; d <= 7; d++ {
			f.clock.Advance(24 * time.Hour)
			check(fmt.Sprintf("day %d", d), campaignCost{Skipped: 3})
		}
		// Day 8: day 1's hits are 7 days old, out of the window. 80 points are left: 2 hit,
		// the third skipped by the budget cap.
		f.clock.Advance(24 * time.Hour)
		check("day 8", campaignCost{Members: 2, Skipped: 1, Points: 80, CostCents: 80})
		c := f.campaign("capped")
		if c.SpentPoints != 200 {
			t.Fatalf("spent %d, want the whole 200 and never more", c.SpentPoints)
		}
		last := c.Runs.Edges[0].Node // newest first
		if r := last.Results.Edges[2].Node; r.Member != "app-3" || r.Status != "SKIPPED" || r.Reason != campaign.ReasonCampaignCap {
			t.Fatalf("day 8's third result = %+v", r)
		}
		if r := c.Runs.Edges[1].Node.Results.Edges[0].Node; r.Status != "SKIPPED" || r.Reason != campaign.ReasonFrequencyCap {
			t.Fatalf("day 7's first result = %+v", r)
		}
		if b := f.balance("app-1"); b != 80 {
			t.Errorf("app-1 hit on days 1 and 8: %d, want 80", b)
		}
	})
}

// TestCampaignPause: a paused campaign does not run; resumed, it runs the day's run.
func TestCampaignPause(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(2, 0)
		f.mustCreate(daily("pausable", 10, 1000))
		var out struct {
			PauseCampaign struct{ Campaign struct{ Status string } }
		}
		f.must(f.admin, `mutation { pauseCampaign(input: {key: "pausable"}) { campaign { status } userErrors { code } } }`, nil, &out)
		if out.PauseCampaign.Campaign.Status != "PAUSED" {
			t.Fatalf("pause: %+v", out)
		}
		if st := f.runDue(); st.Runs != 0 {
			t.Fatalf("paused campaign ran: %+v", st)
		}
		if c := f.campaign("pausable"); len(c.Runs.Edges) != 0 {
			t.Fatalf("paused campaign has runs: %+v", c)
		}
		f.must(f.admin, `mutation { resumeCampaign(input: {key: "pausable"}) { campaign { status } userErrors { code } } }`, nil, &out)
		if st := f.runDue(); st.Runs != 1 || st.Done != 2 {
			t.Fatalf("resumed: %+v, want 2 hit", st)
		}
	})
}

// TestCampaignRefusals: malformed input is refused with a code naming the field and
// creates nothing; only ADMIN may use campaigns.
func TestCampaignRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(1, 0)
		with := func(k string, v any) map[string]any {
			in := daily("bad", 10, 100)
			in[k] = v
			return in
		}
		cases := []struct {
			name  string
			in    map[string]any
			field string
			code  string
		}{
			{"key", with("key", "has space"), "input.key", "INVALID_ARGUMENT"},
			{"time of day", with("trigger", map[string]any{"kind": "DAILY", "timeOfDay": "24:00"}), "input.trigger.timeOfDay", "INVALID_ARGUMENT"},
			{"weekday", with("trigger", map[string]any{"kind": "WEEKLY", "timeOfDay": "10:00", "weekday": 8}), "input.trigger.weekday", "INVALID_ARGUMENT"},
			{"month day", with("trigger", map[string]any{"kind": "MONTHLY", "timeOfDay": "10:00", "monthDay": 29}), "input.trigger.monthDay", "INVALID_ARGUMENT"},
			{"once without at", with("trigger", map[string]any{"kind": "ONCE"}), "input.trigger.at", "INVALID_ARGUMENT"},
			{"unknown segment", with("segment", "nobody"), "input.segment", "NOT_FOUND"},
			{"points", with("action", map[string]any{"kind": "GRANT_POINTS", "points": 0, "budget": "PLATFORM"}), "input.action.points", "INVALID_ARGUMENT"},
			{"budget name", with("action", map[string]any{"kind": "GRANT_POINTS", "points": 5, "budget": "MINE"}), "input.action.budget", "INVALID_ARGUMENT"},
			{"unknown store", with("action", map[string]any{"kind": "GRANT_POINTS", "points": 5, "budget": "STORE:nowhere"}), "input.action.budget", "NOT_FOUND"},
			{"platform without cap", with("budgetPoints", 0), "input.budgetPoints", "INVALID_ARGUMENT"},
			{"cap days", with("frequencyCap", map[string]any{"hits": 1, "days": 0}), "input.frequencyCap.days", "INVALID_ARGUMENT"},
			{"coupon without benefit", with("action", map[string]any{"kind": "ISSUE_COUPON", "validDays": 7}), "input.action.benefitKey", "INVALID_ARGUMENT"},
		}
		for _, c := range cases {
			ue := f.create(c.in)
			if len(ue) != 1 || fmt.Sprint(ue[0].Field) != fmt.Sprint(campaignFieldPath(c.field)) || ue[0].Code != c.code {
				t.Errorf("%s: %+v, want %s at %s", c.name, ue, c.code, c.field)
			}
		}
		var list struct{ Campaigns []struct{ Key string } }
		f.must(f.admin, `{ campaigns { key } }`, nil, &list)
		if len(list.Campaigns) != 0 {
			t.Fatalf("refused input created %+v", list.Campaigns)
		}
		f.mustCreate(daily("dup", 10, 100))
		if ue := f.create(daily("dup", 10, 100)); len(ue) != 1 || ue[0].Code != "ALREADY_EXISTS" {
			t.Fatalf("duplicate key: %+v", ue)
		}
		f.checkRoles([]string{`{ campaigns { key } }`, `mutation { pauseCampaign(input: {key: "dup"}) { userErrors { code } } }`},
			map[auth.Role][]string{auth.RoleService: {"FORBIDDEN", "FORBIDDEN"}, auth.RoleMember: {"FORBIDDEN", "FORBIDDEN"},
				auth.RoleStore: {"FORBIDDEN", "FORBIDDEN"}, auth.RolePartner: {"FORBIDDEN", "FORBIDDEN"}})
	})
}

func campaignFieldPath(f string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(f); i++ {
		if i == len(f) || f[i] == '.' {
			out = append(out, f[start:i])
			start = i + 1
		}
	}
	return out
}

// TestCampaignStoreBudget: a campaign paying from a union store's budget grants only the
// union's consenting members and never beyond the shared budget. The budget holds 100; each
// hit is 40: app-1 (60 left) and app-2 (20 left) are hit, app-3 does not consent, app-4
// consents but 20 < 40 is left.
func TestCampaignStoreBudget(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(4, 0)
		f.storeProgram("mall", "UNION")
		if ue := f.createStore("mall-tea", "mall"); len(ue) > 0 {
			t.Fatalf("createStore: %+v", ue)
		}
		var funded struct {
			FundStoreBudget struct{ UserErrors []userError }
		}
		f.must(f.admin, fundStoreMutation, map[string]any{"in": map[string]any{"storeId": "UNION:mall", "points": 100,
			"reason": "campaign budget", "idempotencyKey": "fund-mall-1"}}, &funded)
		if len(funded.FundStoreBudget.UserErrors) > 0 {
			t.Fatalf("fund: %+v", funded.FundStoreBudget.UserErrors)
		}
		svc := f.token(auth.RoleService, "shop")
		for _, m := range []string{"app-1", "app-2", "app-4"} {
			if p := f.join(svc, map[string]any{"externalId": m, "program": "mall", "channel": "STORE", "textVersion": "v1"}); len(p.UserErrors) > 0 {
				t.Fatalf("join %s: %+v", m, p.UserErrors)
			}
		}
		in := daily("tea", 40, 0)
		in["action"] = map[string]any{"kind": "GRANT_POINTS", "points": 40, "budget": "STORE:mall-tea"}
		f.mustCreate(in)
		want := campaignCost{Members: 2, Skipped: 2, Points: 80, CostCents: 80}
		if got := f.dryRun("tea"); got != want {
			t.Fatalf("dry run = %+v, want %+v", got, want)
		}
		if st := f.runDue(); st.Done != 2 || st.Skipped != 2 || st.Points != 80 {
			t.Fatalf("run = %+v, the dry run said %+v", st, want)
		}
		results := f.campaign("tea").Runs.Edges[0].Node.Results.Edges
		wantReasons := []string{"", "", campaign.ReasonNoConsent, campaign.ReasonStoreBudget}
		for i, e := range results {
			if e.Node.Reason != wantReasons[i] {
				t.Errorf("%s: %+v, want reason %q", e.Node.Member, e.Node, wantReasons[i])
			}
		}
		var budget struct{ StoreBudget budgetView }
		f.must(f.admin, `{ storeBudget(storeId: "mall-tea") { storeId funded granted remaining } }`, nil, &budget)
		if b := budget.StoreBudget; b.Funded != 100 || b.Granted != 80 || b.Remaining != 20 {
			t.Fatalf("budget after the run = %+v, want 100 funded, 80 granted, 20 left", b)
		}
		// The next day 20 are left: nobody can be hit, the budget stays at 20.
		f.clock.Advance(24 * time.Hour)
		if st := f.runDue(); st.Done != 0 || st.Skipped != 4 {
			t.Fatalf("day 2 = %+v, want all 4 skipped", st)
		}
		if b := f.balance("app-1"); b != 40 {
			t.Errorf("app-1: %d points, want 40", b)
		}
	})
}

// TestCampaignPlusStartTrigger: an EVENT campaign on PLUS_START hits a member of its segment
// once when the member's PLUS term begins (read from the outbox after the commit), one run
// per term; a member outside the segment is not hit, and a replayed start (same key) starts
// nothing new.
func TestCampaignPlusStartTrigger(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(1, 1)
		f.mustCreate(map[string]any{"key": "plus-welcome", "name": "PLUS welcome", "segment": "app",
			"trigger": map[string]any{"kind": "EVENT", "event": "PLUS_START"},
			"action":  map[string]any{"kind": "GRANT_POINTS", "points": 300, "budget": "PLATFORM"}, "budgetPoints": 10_000})
		svc := f.token(auth.RoleService, "shop")
		trial := func(member, key string) {
			t.Helper()
			var out struct {
				StartPlusTrial struct{ UserErrors []userError }
			}
			f.must(svc, `mutation($in: StartPlusTrialInput!) { startPlusTrial(input: $in) { replayed userErrors { field message code } } }`,
				map[string]any{"in": map[string]any{"externalId": member, "idempotencyKey": key}}, &out)
			if len(out.StartPlusTrial.UserErrors) > 0 {
				t.Fatalf("trial %s: %+v", member, out.StartPlusTrial.UserErrors)
			}
		}
		trial("app-1", "trial-app-1")
		trial("app-1", "trial-app-1") // a replay: no new term, no new run
		trial("web-1", "trial-web-1") // outside the segment
		if c := f.campaign("plus-welcome"); len(c.Runs.Edges) != 0 {
			t.Fatalf("before the triggers were read: %+v, want no run (never inside the term's transaction)", c)
		}
		f.drain()
		f.drain() // read again: nobody twice
		c := f.campaign("plus-welcome")
		if len(c.Runs.Edges) != 1 || c.SpentPoints != 300 {
			t.Fatalf("after the trials: %+v, want one run of 300 points", c)
		}
		run := c.Runs.Edges[0].Node
		if len(run.Results.Edges) != 1 || run.Results.Edges[0].Node != (campaignResultView{Member: "app-1", Status: "DONE", Points: 300}) || run.FinishedAt == nil {
			t.Fatalf("run = %+v", run)
		}
		if b := f.balance("app-1"); b != 300 {
			t.Errorf("app-1: %d points, want 300", b)
		}
		if b := f.balance("web-1"); b != 0 {
			t.Errorf("web-1, outside the segment: %d points", b)
		}
	})
}
